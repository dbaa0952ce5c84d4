// The provider's configuration: clients, features, the test API and its
// scopes. Everything a test needs to know about the provider (client ids,
// test-only secrets, the API's resource indicator and scopes) is defined here,
// once, and printed by server.mjs in its start-up line, so no other file
// repeats a secret.

import { generateKeyPairSync, randomBytes } from 'node:crypto';

import { errors } from 'oidc-provider';

/** The device-code grant's URN (RFC 8628). */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * The one protected API. Its resource indicator looks like an Entra ID
 * application id URI and its scopes carry the URI as a prefix, so msal-style
 * scope lists ("api://idflow-test/read openid profile offline_access") work
 * without a `resource` parameter: the default resource picks the API.
 */
export const API = {
  resource: 'api://idflow-test',
  scopes: ['api://idflow-test/read', 'api://idflow-test/write', 'api://idflow-test/.default'],
};

/** OpenID scopes the provider knows; anything else that is not an API scope is "unknown". */
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'];

/**
 * Client ids and their test-only secrets. These secrets protect nothing but
 * this throw-away, loopback-only provider; they are constants so that every
 * language's suite can be pointed at the same values.
 */
export const CLIENTS = {
  native: { client_id: 'idflow-native', auth_method: 'none' },
  secret_post: {
    client_id: 'idflow-secret-post',
    client_secret: 'test-only-secret-post-0123456789abcdef',
    auth_method: 'client_secret_post',
  },
  secret_basic: {
    client_id: 'idflow-secret-basic',
    client_secret: 'test-only-secret-basic-0123456789abcdef',
    auth_method: 'client_secret_basic',
  },
  private_key_jwt: { client_id: 'idflow-private-key-jwt', auth_method: 'private_key_jwt' },
};

/** Where confidential (web) clients are sent back; matched exactly, port included. */
export const WEB_REDIRECT_URI = 'http://127.0.0.1/callback';

const CONFIDENTIAL_GRANTS = ['client_credentials', 'authorization_code', 'refresh_token'];

/**
 * Client metadata. The native client is `application_type: native`, which is
 * what makes oidc-provider accept its loopback redirect URIs on any port
 * (RFC 8252 §7.3): the registered URI is compared with the port stripped.
 * Web clients get exact matching only.
 */
function clientMetadata(jwks) {
  const list = [
    {
      client_id: CLIENTS.native.client_id,
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: [
        'http://127.0.0.1/callback',
        'http://localhost/callback',
        'http://127.0.0.1/',
        'http://localhost/',
      ],
      grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
      response_types: ['code'],
    },
    {
      client_id: CLIENTS.secret_post.client_id,
      client_secret: CLIENTS.secret_post.client_secret,
      token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: [WEB_REDIRECT_URI],
      grant_types: CONFIDENTIAL_GRANTS,
      response_types: ['code'],
    },
    {
      client_id: CLIENTS.secret_basic.client_id,
      client_secret: CLIENTS.secret_basic.client_secret,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [WEB_REDIRECT_URI],
      grant_types: CONFIDENTIAL_GRANTS,
      response_types: ['code'],
    },
  ];
  if (jwks) {
    list.push({
      client_id: CLIENTS.private_key_jwt.client_id,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks,
      redirect_uris: [WEB_REDIRECT_URI],
      grant_types: CONFIDENTIAL_GRANTS,
      response_types: ['code'],
    });
  }
  return list;
}

function requestedScopes(ctx) {
  const scope = ctx.oidc?.params?.scope;
  return typeof scope === 'string' && scope.length ? scope.split(' ') : [];
}

/**
 * Stock oidc-provider silently drops scopes it does not know. With
 * `state.strictScopes` on, an unknown scope is refused with `invalid_scope`
 * the way Entra ID refuses it. The check runs inside resource resolution
 * (which every authorize, device-authorization and token request passes
 * through) so the provider renders the error itself: a redirect carrying
 * `state` and `iss` at /auth, a JSON body at /token and /device/auth.
 */
function rejectUnknownScopes(ctx, state) {
  if (!state.strictScopes) return;
  const known = new Set([...OIDC_SCOPES, ...API.scopes]);
  const unknown = requestedScopes(ctx).filter((s) => !known.has(s));
  if (unknown.length) {
    throw new errors.InvalidScope('requested scope is not allowed', unknown.join(' '));
  }
}

/**
 * The API is the default resource unless the request asks for OpenID scopes
 * only (then the access token stays opaque and usable at userinfo). Client
 * credentials always default to the API, so their tokens are JWTs.
 */
async function defaultResource(ctx, _client, oneOf, state) {
  rejectUnknownScopes(ctx, state);
  if (oneOf) return Array.isArray(oneOf) && oneOf.length === 1 ? oneOf[0] : oneOf;
  const scopes = requestedScopes(ctx);
  const apiScope = scopes.some((s) => API.scopes.includes(s));
  const clientCredentials = ctx.oidc?.params?.grant_type === 'client_credentials';
  return apiScope || clientCredentials ? API.resource : undefined;
}

async function getResourceServerInfo(ctx, indicator, _client, state, ttl) {
  rejectUnknownScopes(ctx, state);
  if (indicator !== API.resource) {
    throw new errors.InvalidTarget();
  }
  return {
    scope: API.scopes.join(' '),
    audience: API.resource,
    accessTokenFormat: 'jwt',
    accessTokenTTL: ttl.accessToken,
  };
}

/** A fresh signing key per run: nothing in the repository signs anything. */
function signingKeys() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: `op-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' }] };
}

/**
 * Any login is accepted by the development interactions; the login becomes
 * the subject, and the claims msal libraries read from an ID token are filled
 * in from it.
 */
async function findAccount(_ctx, sub) {
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        name: `Test User ${sub}`,
        preferred_username: sub,
        email: `${sub}@idflow.test`,
        email_verified: true,
      };
    },
  };
}

/**
 * Builds the oidc-provider configuration.
 *
 * `state` is the live test-control state (see controls.mjs); `jwks` is the
 * private_key_jwt client's public key set (the client is left out without
 * it); `ttl` holds the access-token and device-code lifetimes in seconds.
 */
export function providerConfiguration({ state, jwks, ttl }) {
  return {
    clients: clientMetadata(jwks),
    jwks: signingKeys(),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    findAccount,
    scopes: OIDC_SCOPES,
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    // ID tokens carry the profile claims, as msal expects (it reads
    // preferred_username from the ID token, not from userinfo).
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx, client, oneOf) => defaultResource(ctx, client, oneOf, state),
        getResourceServerInfo: (ctx, indicator, client) => getResourceServerInfo(ctx, indicator, client, state, ttl),
        // A code or device code granted for the API redeems to an API token
        // even when `openid` was asked for too (the stock default would pick
        // userinfo instead).
        useGrantedResource: async () => true,
      },
    },
    // Stock behaviour drops `offline_access` at /auth unless prompt=consent,
    // so auth-code logins would get no refresh token; issue one whenever the
    // client may use the refresh_token grant (what Entra ID does).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Tokens outlive the browser session: tests and msal redeem them long
    // after the driven login ends.
    expiresWithSession: async () => false,
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: ttl.accessToken,
      AuthorizationCode: 60,
      ClientCredentials: ttl.accessToken,
      DeviceCode: ttl.deviceCode,
      Grant: 14 * 24 * 3600,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
    },
  };
}
