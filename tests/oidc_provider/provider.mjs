// A real OpenID Connect provider for the identity tests: panva's oidc-provider (OpenID Certified), with its
// development login screens, one confidential client and the accounts (with their group claims) from a JSON file.
// Usage: node provider.mjs CONFIG.json   CONFIG: {port, issuer, client_id, client_secret, redirect_uri, accounts}
// where accounts maps a login name to its claims. Prints "listening <issuer>" once it accepts connections.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', use: 'sig', alg: 'RS256' };

const provider = new Provider(config.issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: [config.redirect_uri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: { keys: [signingKey] },
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email'],
    groups: ['groups'],
  },
  scopes: ['openid', 'profile', 'email', 'groups'],
  conformIdTokenClaims: false, // the ID token carries the granted claims (the groups among them)
  async findAccount(ctx, sub) {
    const claims = config.accounts[sub];
    if (!claims) return undefined;
    return { accountId: sub, async claims() { return { sub, preferred_username: sub, ...claims }; } };
  },
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${config.issuer}`);
});
