// Package client is psgate's connector library: it opens PowerShell
// remoting sessions (PSRP runspace pools over WS-Management) on a psgate
// gateway, or any WinRM endpoint speaking PSRP, and runs commands on them.
//
// Open a session with Dial, run command lines or structured pipelines with
// Session.Run (output objects stream to a callback as they arrive; error,
// warning, verbose, debug and information records are collected), and
// close it with Session.Close. Session.Sessions and Session.CloseSession
// (or the Dial-free ListSessions and CloseSession) manage the caller's own
// shells on the server.
//
// Reconnecting wraps a session the way Enable-CsOnlineSessionForReconnection
// did: when the server closes the session (lifetime or idle timeout), the
// token expires or the connection drops, it opens a new session with a
// one-line notice. A command that had not started is retried; one that may
// have run is reported as client.command-interrupted and never run twice.
//
// Every failure is a *psgate.Error carrying a catalog code: WS-Man faults
// map back through their pg:Error code, an HTTP 401 without one is
// identity.authentication-required, and network failures name the layer
// that failed with its next step (see ClassifyNetworkError):
// client.dns-failed, client.not-listening, client.connect-timeout, the
// client.tls-* certificate errors, client.http-error, or
// client.connect-failed for the rest.
//
// Credentials are a password, or access tokens from a TokenSource, sent as
// the Basic password "Bearer <token>" as the Skype for Business Online
// connector did. TokenCache stores tokens in a 0600 file per user and
// tenant (an unreadable or corrupt file is identity.token-cache-unreadable);
// OAuth signs in at the identity service's token endpoint with the password
// grant (PasswordGrant), the device-code flow (StartDeviceCode then
// PollDeviceCode, which honours the interval, slow_down and expiry), or as
// a registered application (ClientCredentials with a client secret or a
// certificate key, private_key_jwt), and refreshes with the refresh_token
// grant. CachedTokenSource ties the cache and the grants together: it
// returns the cached token while valid, refreshes or signs in again, and
// reports a token it cannot renew as identity.token-expired.
package client
