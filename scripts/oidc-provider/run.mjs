// Runs panva's oidc-provider on 127.0.0.1 for psgate's federation tests.
//
//   node run.mjs MODULES_DIR
//
// MODULES_DIR holds node_modules with oidc-provider (scripts/oidc-provider.sh
// installs it into .tools/oidc-provider). The configuration comes from the
// environment:
//
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI  one client (code flow)
//   OIDC_USERS  JSON: account ID -> its claims, e.g. {"alice":{"preferred_username":"alice@contoso.test"}}
//
// The provider signs with two keys it generates (RS256 and ES256), serves
// plain HTTP on a free loopback port (psgate accepts http issuers only on
// loopback) and prints "issuer http://127.0.0.1:PORT" once it listens. It
// uses oidc-provider's own development login pages: the account must exist
// in OIDC_USERS, and any password is accepted.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node run.mjs MODULES_DIR');
  process.exit(2);
}
const { default: Provider } = await import(pathToFileURL(join(dir, 'node_modules/oidc-provider/lib/index.js')).href);

const need = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`run.mjs: set ${name}`);
    process.exit(2);
  }
  return v;
};
const users = JSON.parse(need('OIDC_USERS'));

function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`, alg, use: 'sig' };
}

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: need('OIDC_CLIENT_ID'),
    client_secret: need('OIDC_CLIENT_SECRET'),
    application_type: 'native',
    redirect_uris: [need('OIDC_REDIRECT_URI')],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: {
    keys: [
      signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
      signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
    ],
  },
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'] },
  // The claims of the granted scopes go into the ID token itself, which
  // is what psgate reads.
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    const claims = users[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
server.on('request', provider.callback());
console.log(`issuer ${issuer}`);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
