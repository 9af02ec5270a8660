// Package identity authenticates psgate's callers and is psgate's token
// service, the role "Live ID" and Get-CsWebTicket played for the Skype for
// Business Online connector.
//
// # Gateway authentication
//
// Authenticator.Authenticate runs on every WS-Management request. It
// accepts
//
//   - Basic with the user name and "Bearer <access token>" as the
//     password: stock WinRM clients (PowerShell, pywinrm, pypsrp) cannot
//     set an Authorization: Bearer header, so the token travels inside
//     Basic, as the connector did;
//   - a plain "Authorization: Bearer <access token>" header;
//   - Basic with a directory password, only where the tenant's policy
//     AllowPasswordAuthentication is on (off for new tenants, on for the
//     demo tenant).
//
// Negotiate, Kerberos, NTLM and CredSSP are refused with
// identity.basic-auth-required, whose text explains how to allow Basic on
// the WinRM client. Tokens are checked by a TokenVerifier (*Service): the
// signature with an asymmetric algorithm allow-list (never "none" or
// HMAC), exp and nbf with a bounded clock skew, issuer, audience, the
// tenant the request addresses (its AdminDomain query parameter, or the
// TENANT\user form of the Basic user name), that the Basic user name is
// the token's subject, and that the user is still enabled (re-read at
// least every 30 s, so disabling a user takes effect within a minute). A
// verified token is cached until it expires, so a request with a token
// already seen costs a SHA-256 and two map lookups, and the bearer path
// never hashes a password. A tenant the token is not for is refused the
// same way whether it exists or not (identity.token-wrong-tenant, naming
// it as the request spelled it), so a token cannot probe tenant domains.
// Verified Basic passwords are cached for 10 s. Basic passwords are
// checked by Config.Passwords, which the server sets to the token
// service, so that one hashing bound and one lockout state cover the
// gateway and the token endpoint.
//
// # Token service
//
// Service serves, on the gateway's listeners:
//
//	GET  /.well-known/openid-configuration   discovery (also /.well-known/oauth-authorization-server)
//	GET  /.well-known/jwks.json              signing keys
//	POST /oauth2/token                       grants: password, refresh_token,
//	                                         urn:ietf:params:oauth:grant-type:device_code,
//	                                         client_credentials
//	POST /oauth2/devicecode                  device authorization (RFC 8628)
//	GET  /device, POST /device               verification page: enter the code, sign in
//	POST /oauth2/revoke                      refresh token revocation (RFC 7009)
//
// Access tokens are ES256 JWTs (typ at+jwt, RFC 9068) with iss, sub (the
// UPN), aud (urn:psgate:gateway), exp (60 minutes), nbf, iat, jti, tid and
// tenant, uid, oid, client_id, scope and idtyp ("user" or "app"). Refresh
// tokens are opaque; the store keeps only their SHA-256. Each use rotates
// the token; presenting a used one again revokes every token of that
// sign-in (identity.refresh-token-reused). The connector is the public
// client "psgate"; registered applications (store.OAuthClient)
// authenticate with a client secret (client_secret_basic or _post) or a
// certificate (private_key_jwt, RFC 7523, with single-use assertions) and
// get app-only tokens acting as their service principal user.
//
// The password grant follows the tenant's AllowPasswordAuthentication
// policy. The device verification page is interactive sign-in and is
// allowed for every tenant: it is how users of tenants without password
// authentication get tokens.
//
// Signing keys live in the store, so every gateway node signs and
// verifies with the same keys. A key signs for 30 days; its successor is
// published in the JWKS a day before it starts signing, and the old key
// keeps verifying until the last token it signed has expired.
//
// # Federation
//
// A tenant can trust its own OpenID Connect provider (store.Federation:
// issuer, audience, the claim naming the user, by default
// preferred_username). Its tokens are verified with the provider's
// discovery document and key set, cached for an hour and refetched when a
// token names an unknown kid (at most every 10 s per provider). While the
// provider is unreachable, its known keys keep working for a day; a token
// that cannot be checked is identity.provider-unreachable (503), never a
// credentials error, and names the issuer but no tenant. Why a federated
// token was refused is logged with the issuer, audience, claim and tenant
// as attributes.
//
// # Credentials
//
// Passwords are argon2id PHC strings (internal/password). Every typed user
// name (any case, Unicode compatibility form, TENANT\user, stray
// whitespace) is folded to one canonical name (NFKC, lower case, no
// whitespace or invisible characters) and resolved to its account before
// anything is counted or cached: every spelling of an account shares its
// lockout budget, and an unknown name is keyed by (a hash of) its
// canonical form, so it costs and answers exactly like a real one.
//
// Failed sign-ins are counted in the store with smart lockout, in the
// shape of Microsoft Entra ID's (LockoutPolicy): separately for familiar
// locations (a client address the account signed in from within 30
// days) and unfamiliar ones, so a stranger's guesses never lock the owner
// out at home; a wrong password repeated within the window is counted
// once (the service keeps an HMAC of recent wrong passwords per account
// under a per-process random key, never the password); 5 different wrong
// passwords lock the account for a minute, each further lock within a day
// twice as long, up to an hour (identity.account-locked, which says until
// when). Failures from unfamiliar locations also count per client address
// (IPv6 per /64): 20 block it (identity.sign-in-throttled) for everyone
// but the accounts it is familiar to. Requests that carry no credential
// at all count nothing, wrong device codes have their own budget, and
// refresh tokens are never refused for their address.
//
// The client address is the connection's peer, or, when the peer is one
// of ServiceConfig.TrustedProxies, the rightmost X-Forwarded-For address
// that is not itself a trusted proxy.
//
// Hashing is bounded (HashLimits): at most half of GOMAXPROCS argon2id
// computations of strangers run at once, a queue (which holds no hashing
// memory) waits, and a sign-in beyond it is refused at once with
// identity.sign-in-busy (503, Retry-After). Sign-ins from a familiar
// location have one more slot reserved and a queue served before the
// strangers', so a flood of guesses never makes the owner wait behind it;
// one client address may hold
// at most half of the queue and one account two different passwords in
// flight (identity.too-many-pending, 429), and identical concurrent
// checks are made once. A locked account or blocked address is refused before any
// hashing. Bearer tokens never hash and never wait for a hash. Every
// failed sign-in is written to the audit log (auth.failed) when
// ServiceConfig.Audit is set; refusals before any check (locked, busy)
// are not, so that a flood cannot fill the log. No password, secret or
// token is ever logged; a failed sign-in logs and audits the UPN only
// when it names a real account.
//
// Device codes are bounded per client address and per registered
// application (DeviceCodeLimits); once the table is half full, codes
// whose client stopped polling are dropped and new ones live 5 minutes.
//
// # Limitations
//
// Device codes are kept in the memory of the node that issued them: in a
// cluster, polling and the verification page must reach the same node
// (sticky sessions), and a restart forgets pending sign-ins. Access tokens
// cannot be revoked one by one; they expire, and disabling the user stops
// them within a minute. The trusted issuers of federations are re-read at
// most every minute, and a federated token already verified stays valid
// until it expires even if the federation is switched off. Signing keys
// are stored unencrypted in the store. The hashing bounds, the in-flight
// counts and the recent wrong passwords are per node (the failure
// counters, locks and familiar addresses are in the store, shared); the
// store keeps a row per counted key and never purges them.
package identity
