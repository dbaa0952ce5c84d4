// msal-node against the idflow emulator over TLS, as an MSAL user would run
// it: `idflow emulator --tls --scenario ...`, the CA trusted through
// NODE_EXTRA_CA_CERTS, faults armed through the admin API, and assertions on
// what msal-node itself throws (its error class, errorCode, subError, claims).
//
// Run by scripts/test-msal-libraries.sh, which starts the emulator and sets
// IDFLOW_TLS_EMULATOR_URL. `knownAuthorities` names the emulator's host, so
// msal-node trusts it as an authority instead of asking
// login.microsoftonline.com (instance discovery) about it.
import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import * as msal from "@azure/msal-node";

const base = process.env.IDFLOW_TLS_EMULATOR_URL;
if (!base || !base.startsWith("https://")) {
  throw new Error("IDFLOW_TLS_EMULATOR_URL is unset: run scripts/test-msal-libraries.sh");
}
const host = new URL(base).host;
const authority = `${base}/emulator.idflow.test`;
const PUBLIC = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e01";
const CONFIDENTIAL = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10";
const SECRET = "emulator-secret-do-not-use-in-production";
const GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"];
const USER_SCOPES = ["User.Read"];

async function admin(method, path, body) {
  const r = await fetch(`${base}/_admin/${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(r.ok, `admin ${method} ${path}: ${r.status}`);
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}
const tokenRequests = async () =>
  (await admin("GET", "requests")).filter((r) => r.endpoint === "token");

const confidential = (secret = SECRET) =>
  new msal.ConfidentialClientApplication({
    auth: { clientId: CONFIDENTIAL, clientSecret: secret, authority, knownAuthorities: [host] },
  });
const publicApp = () =>
  new msal.PublicClientApplication({
    auth: { clientId: PUBLIC, authority, knownAuthorities: [host] },
  });

// A device-code sign-in approved through the admin API (from msal-node's
// callback, which shows the user code).
async function signIn(app) {
  const result = await app.acquireTokenByDeviceCode({
    scopes: USER_SCOPES,
    deviceCodeCallback: (d) => {
      admin("POST", "device_codes/approve", { user_code: d.userCode });
    },
  });
  assert.ok(result.accessToken);
  return result.account;
}

beforeEach(async () => {
  await admin("POST", "reset", {});
  await admin("DELETE", "requests");
});
afterEach(async () => {
  await admin("DELETE", "faults");
});

test("client credentials", async () => {
  const result = await confidential().acquireTokenByClientCredential({ scopes: GRAPH_DEFAULT });
  assert.equal(result.tokenType, "Bearer");
  assert.equal(result.fromCache, false);
  const reqs = await tokenRequests();
  assert.deepEqual(reqs.map((r) => [r.grant_type, r.status]), [["client_credentials", 200]]);
});

test("device code approved through the admin API, then refresh", async () => {
  const app = publicApp();
  const account = await signIn(app);
  assert.equal(account.username, "ada@emulator.idflow.test");
  const refreshed = await app.acquireTokenSilent({ account, scopes: USER_SCOPES, forceRefresh: true });
  assert.equal(refreshed.fromCache, false);
  const grants = (await tokenRequests()).map((r) => [r.grant_type, r.status]);
  assert.deepEqual(grants.at(-1), ["refresh_token", 200]);
});

test("MFA claims challenge, then the retry with the claims", async () => {
  const app = publicApp();
  const account = await signIn(app);
  const challenge = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
  await admin("POST", "faults", {
    match: { endpoint: "token", grant_type: "refresh_token" },
    count: null,
    effect: { kind: "require_claims", claims: challenge },
  });
  const error = await app
    .acquireTokenSilent({ account, scopes: USER_SCOPES, forceRefresh: true })
    .then(() => assert.fail("expected InteractionRequiredAuthError"), (e) => e);
  assert.ok(error instanceof msal.InteractionRequiredAuthError, error.constructor.name);
  assert.equal(error.errorCode, "interaction_required");
  assert.equal(error.errorNo, 50079);
  assert.deepEqual(JSON.parse(error.claims), JSON.parse(challenge));
  const retried = await app.acquireTokenSilent({ account, scopes: USER_SCOPES, claims: error.claims });
  assert.ok(retried.accessToken);
});

test("consent required", async () => {
  const app = publicApp();
  const account = await signIn(app);
  await admin("POST", "presets/consent_required", {});
  const error = await app
    .acquireTokenSilent({ account, scopes: USER_SCOPES, forceRefresh: true })
    .then(() => assert.fail("expected InteractionRequiredAuthError"), (e) => e);
  assert.ok(error instanceof msal.InteractionRequiredAuthError, error.constructor.name);
  assert.equal(error.errorCode, "invalid_grant");
  assert.equal(error.subError, "consent_required");
  assert.equal(error.errorNo, 65001);
});

test("429 with Retry-After, then msal-node's own throttling", async () => {
  await admin("POST", "presets/throttled_429", {});
  const app = confidential();
  const error = await app
    .acquireTokenByClientCredential({ scopes: GRAPH_DEFAULT })
    .then(() => assert.fail("expected ServerError"), (e) => e);
  assert.ok(error instanceof msal.ServerError, error.constructor.name);
  assert.equal(error.errorCode, "temporarily_unavailable");
  assert.equal(error.status, 429);
  // Within Retry-After msal-node answers the same request itself.
  const again = await app
    .acquireTokenByClientCredential({ scopes: GRAPH_DEFAULT })
    .then(() => assert.fail("expected ServerError"), (e) => e);
  assert.ok(again instanceof msal.ServerError);
  assert.equal((await tokenRequests()).length, 1);
});

test("a 5xx with an HTML page", async () => {
  await admin("POST", "presets/service_unavailable_503", {});
  const error = await confidential()
    .acquireTokenByClientCredential({ scopes: GRAPH_DEFAULT })
    .then(() => assert.fail("expected AuthError"), (e) => e);
  // msal-node reads the body before the status: a non-JSON 503 is a parsing error.
  assert.ok(error instanceof msal.AuthError, error.constructor.name);
  assert.equal(error.errorCode, "token_parsing_error");
  assert.deepEqual((await tokenRequests()).map((r) => r.status), [503]);
});

test("a 5xx with an OAuth body", async () => {
  await admin("POST", "faults", {
    match: { endpoint: "token" },
    effect: { kind: "oauth_error", error: "temporarily_unavailable", error_codes: [90033], status: 503 },
  });
  const error = await confidential()
    .acquireTokenByClientCredential({ scopes: GRAPH_DEFAULT })
    .then(() => assert.fail("expected ServerError"), (e) => e);
  assert.ok(error instanceof msal.ServerError, error.constructor.name);
  assert.equal(error.errorCode, "temporarily_unavailable");
  assert.equal(error.status, 503);
});

test("wrong secret", async () => {
  const error = await confidential("not-the-secret")
    .acquireTokenByClientCredential({ scopes: GRAPH_DEFAULT })
    .then(() => assert.fail("expected ServerError"), (e) => e);
  assert.ok(error instanceof msal.ServerError, error.constructor.name);
  assert.equal(error.errorCode, "invalid_client");
  assert.equal(error.errorNo, 7000215);
  assert.equal(error.status, 401);
});

test("declined device code", async () => {
  const error = await publicApp()
    .acquireTokenByDeviceCode({
      scopes: USER_SCOPES,
      deviceCodeCallback: (d) => {
        admin("POST", "device_codes/decline", { user_code: d.userCode });
      },
    })
    .then(() => assert.fail("expected AuthError"), (e) => e);
  // msal-node's device-code poller reports any error other than
  // authorization_pending as post_request_failed, with the OAuth error as
  // its message (msal-node/src/client/DeviceCodeClient.ts).
  assert.ok(error instanceof msal.AuthError, error.constructor.name);
  assert.equal(error.errorCode, "post_request_failed");
  assert.match(error.errorMessage, /authorization_declined/);
});
