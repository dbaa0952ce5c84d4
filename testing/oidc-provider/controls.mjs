// Test controls: what stock oidc-provider never does, added from outside it.
//
// - `slow_down`: the provider never answers it; a test arms a count and the
//   next device-code polls get it, before the provider sees them (so an
//   approved code is not consumed by a poll that answers slow_down).
// - strict scopes: see `rejectUnknownScopes` in config.mjs; toggled here.
// - Microsoft-style error bodies: `/token` and `/device/auth` errors are
//   decorated with `error_codes`, `trace_id`, `correlation_id`, `timestamp`,
//   AADSTS text and, when a test asks, `suberror` and `claims`.
// - `interval`: the provider's device-authorization response has none, so
//   clients fall back to RFC 8628's 5 s; `--device-interval` adds one.
//
// The control endpoint lives outside the issuer path (`/__test/control`), on
// the same loopback listener; it is not part of any OAuth surface.

import { randomUUID } from 'node:crypto';

import { errors } from 'oidc-provider';

import { DEVICE_CODE_GRANT } from './config.mjs';

/** The path of the control endpoint (outside the issuer path). */
export const CONTROL_PATH = '/__test/control';

const BODY_LIMIT = 56 * 1024;

/**
 * AADSTS numbers that Entra ID sends with each stock OAuth error, used when
 * `--microsoft-errors` decorates a body and the test did not choose one.
 */
const DEFAULT_AADSTS = {
  invalid_grant: 70000,
  invalid_client: 7000215,
  invalid_request: 900144,
  invalid_scope: 70011,
  invalid_target: 500011,
  unsupported_grant_type: 70003,
  unauthorized_client: 700016,
  authorization_pending: 70016,
  expired_token: 70019,
  access_denied: 65004,
};

/** The mutable test-control state, shared with config.mjs's hooks. */
export function initialState({ strictScopes = false, microsoftErrors = false, deviceInterval } = {}) {
  return { slowDown: 0, strictScopes, microsoftErrors, msError: null, deviceInterval };
}

function publicState(state) {
  return {
    slow_down: state.slowDown,
    strict_scopes: state.strictScopes,
    microsoft_errors: state.microsoftErrors,
    ms_error: state.msError,
    device_interval: state.deviceInterval ?? null,
  };
}

function isIntegerArrayOrUndefined(v) {
  return v === undefined || (Array.isArray(v) && v.every((x) => Number.isInteger(x)));
}

/** Applies one control request; returns an error message, or undefined when accepted. */
function applyControl(state, body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object';
  const { slow_down: slowDown, strict_scopes: strict, ms_error: msError } = body;
  if (slowDown !== undefined && !(Number.isInteger(slowDown) && slowDown >= 0 && slowDown <= 100)) {
    return 'slow_down must be an integer between 0 and 100';
  }
  if (strict !== undefined && typeof strict !== 'boolean') return 'strict_scopes must be a boolean';
  if (msError !== undefined && msError !== null) {
    if (typeof msError !== 'object' || Array.isArray(msError)) return 'ms_error must be an object or null';
    if (!isIntegerArrayOrUndefined(msError.error_codes)) return 'ms_error.error_codes must be an array of integers';
    for (const key of ['error', 'error_description', 'suberror', 'claims']) {
      if (msError[key] !== undefined && typeof msError[key] !== 'string') return `ms_error.${key} must be a string`;
    }
    if (msError.status !== undefined && !(Number.isInteger(msError.status) && msError.status >= 400 && msError.status < 600)) {
      return 'ms_error.status must be an HTTP error status';
    }
    if (msError.count !== undefined && !(Number.isInteger(msError.count) && msError.count >= 1)) {
      return 'ms_error.count must be a positive integer';
    }
  }
  if (slowDown !== undefined) state.slowDown = slowDown;
  if (strict !== undefined) state.strictScopes = strict;
  if (msError !== undefined) state.msError = msError === null ? null : { count: 1, ...msError };
  return undefined;
}

async function readRaw(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new Error('request entity too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Node handler for `GET|POST /__test/control`. POST takes a JSON object with
 * any of `slow_down` (count), `strict_scopes` (bool), `ms_error` (object or
 * null); both methods answer the current state.
 */
export async function handleControl(state, req, res) {
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET') return send(200, publicState(state));
  if (req.method !== 'POST') return send(405, { error: 'method not allowed' });
  let body;
  try {
    body = JSON.parse(await readRaw(req));
  } catch (e) {
    return send(400, { error: `unreadable control request: ${e.message}` });
  }
  const problem = applyControl(state, body);
  return problem ? send(400, { error: problem }) : send(200, publicState(state));
}

/**
 * Answers an armed `slow_down` to a device-code poll without letting the
 * provider see it. The body is read only while a count is armed; it is then
 * handed on as `req.body`, which oidc-provider's body parser accepts.
 */
function slowDownMiddleware(state) {
  return async function slowDown(ctx, next) {
    if (state.slowDown > 0 && ctx.method === 'POST' && ctx.path === '/token'
      && ctx.is('application/x-www-form-urlencoded')) {
      const raw = await readRaw(ctx.req);
      if (new URLSearchParams(raw).get('grant_type') === DEVICE_CODE_GRANT) {
        state.slowDown -= 1;
        ctx.state.synthetic = true;
        const err = new errors.SlowDown();
        ctx.status = err.statusCode;
        ctx.set('cache-control', 'no-store');
        ctx.body = { error: err.error, error_description: err.error_description };
        return;
      }
      ctx.req.body = raw;
    }
    await next();
  };
}

function aadTimestamp(date) {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/**
 * Rewrites a stock JSON error body into the shape Entra ID sends: the stock
 * description behind an AADSTS number, then trace id, correlation id and
 * timestamp lines; `error_codes`, `trace_id`, `correlation_id`, `timestamp`,
 * `error_uri` fields; and whatever the armed `ms_error` override sets
 * (`error`, `suberror`, `claims`, `error_codes`, `status`, description).
 */
function decorate(ctx, issuer, override) {
  const body = { ...ctx.body };
  if (override?.error) body.error = override.error;
  const codes = override?.error_codes ?? (DEFAULT_AADSTS[body.error] ? [DEFAULT_AADSTS[body.error]] : []);
  const traceId = randomUUID();
  const correlationId = ctx.get('client-request-id') || randomUUID();
  const timestamp = aadTimestamp(new Date());
  const text = override?.error_description ?? body.error_description ?? body.error;
  const prefix = codes.length ? `AADSTS${codes[0]}: ` : '';
  body.error_description = `${prefix}${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`;
  body.error_codes = codes;
  body.timestamp = timestamp;
  body.trace_id = traceId;
  body.correlation_id = correlationId;
  if (codes.length) body.error_uri = `${issuer}/error?code=${codes[0]}`;
  if (override?.suberror) body.suberror = override.suberror;
  if (override?.claims) body.claims = override.claims;
  if (override?.status) ctx.status = override.status;
  ctx.body = body;
  ctx.set('x-ms-request-id', traceId);
  if (ctx.get('client-request-id')) ctx.set('client-request-id', correlationId);
}

/** Post-processes `/token` and `/device/auth` answers (decoration, `interval`). */
function responseMiddleware(state, issuer) {
  return async function respond(ctx, next) {
    await next();
    if (ctx.path !== '/token' && ctx.path !== '/device/auth') return;
    // A test-control answer (slow_down) is neither decorated nor consumes an override.
    if (ctx.state.synthetic) return;
    const body = ctx.body;
    if (body === null || typeof body !== 'object' || Buffer.isBuffer(body)) return;
    if (ctx.status >= 400 && typeof body.error === 'string') {
      const override = state.msError;
      if (override) {
        override.count -= 1;
        if (override.count <= 0) state.msError = null;
      }
      if (state.microsoftErrors || override) decorate(ctx, issuer, override);
    } else if (ctx.path === '/device/auth' && ctx.status === 200 && state.deviceInterval !== undefined
      && typeof body.device_code === 'string') {
      ctx.body = { ...body, interval: state.deviceInterval };
    }
  };
}

/** Installs the test-control middleware on a provider (before its router). */
export function installControls(provider, state) {
  provider.use(responseMiddleware(state, provider.issuer));
  provider.use(slowDownMiddleware(state));
}
