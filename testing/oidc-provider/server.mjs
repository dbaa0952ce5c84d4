// idflow's test OpenID provider: node-oidc-provider (certified, independent
// of idflow) with the project's configuration, on 127.0.0.1 only.
//
// Start: node server.mjs [--port 0] [--issuer-path /tenant] [--tls-cert F --tls-key F]
//        [--jwks-file F] [--microsoft-errors] [--strict-scopes] [--device-interval N]
//        [--access-token-ttl N] [--device-code-ttl N] [--exit-on-stdin-close]
// Every flag has an IDFLOW_OP_* environment fallback (see README.md).
//
// Stdout carries exactly one line, a JSON object with the issuer, the port and
// the clients, written once the listener accepts connections. Everything else
// (oidc-provider's notices and warnings) goes to stderr. The process runs
// until it is killed (or, with --exit-on-stdin-close, until its parent goes).
// SIGTERM and SIGINT end it at once; on a start-up error it exits with 2.

import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

import { API, CLIENTS, WEB_REDIRECT_URI, providerConfiguration } from './config.mjs';
import { CONTROL_PATH, handleControl, initialState, installControls } from './controls.mjs';

// oidc-provider prints notices with console.info, which would land on stdout
// and break the one-line contract.
console.info = (...args) => console.error(...args);
console.log = (...args) => console.error(...args);

const OPTIONS = {
  port: { type: 'string', env: 'IDFLOW_OP_PORT', default: '0' },
  'issuer-path': { type: 'string', env: 'IDFLOW_OP_ISSUER_PATH', default: '' },
  'tls-cert': { type: 'string', env: 'IDFLOW_OP_TLS_CERT' },
  'tls-key': { type: 'string', env: 'IDFLOW_OP_TLS_KEY' },
  'jwks-file': { type: 'string', env: 'IDFLOW_OP_JWKS_FILE' },
  'microsoft-errors': { type: 'boolean', env: 'IDFLOW_OP_MICROSOFT_ERRORS' },
  'strict-scopes': { type: 'boolean', env: 'IDFLOW_OP_STRICT_SCOPES' },
  'device-interval': { type: 'string', env: 'IDFLOW_OP_DEVICE_INTERVAL' },
  'access-token-ttl': { type: 'string', env: 'IDFLOW_OP_ACCESS_TOKEN_TTL', default: '3600' },
  'device-code-ttl': { type: 'string', env: 'IDFLOW_OP_DEVICE_CODE_TTL', default: '600' },
  'exit-on-stdin-close': { type: 'boolean', env: 'IDFLOW_OP_EXIT_ON_STDIN_CLOSE' },
};

function fail(message) {
  console.error(`idflow test provider: ${message}`);
  process.exit(2);
}

/** Flags first, then IDFLOW_OP_* variables, then defaults. */
function readOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: Object.fromEntries(Object.entries(OPTIONS).map(([k, { type }]) => [k, { type }])),
      strict: true,
    }));
  } catch (e) {
    fail(e.message);
  }
  const out = {};
  for (const [name, { type, env, default: dflt }] of Object.entries(OPTIONS)) {
    let v = values[name];
    if (v === undefined && process.env[env] !== undefined && process.env[env] !== '') {
      v = type === 'boolean' ? ['1', 'true', 'yes'].includes(process.env[env].toLowerCase()) : process.env[env];
    }
    out[name] = v ?? dflt;
  }
  return out;
}

function integer(name, value, min, max) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer in ${min}..${max}`);
  return n;
}

function issuerPath(value) {
  const path = value.replace(/\/+$/, '');
  if (path !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(path)) {
    fail('--issuer-path must look like /tenant (letters, digits, ._~- segments)');
  }
  return path;
}

function readJwks(file) {
  if (!file) return undefined;
  try {
    const jwks = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0) fail(`${file} holds no "keys" array`);
    if (jwks.keys.some((k) => k.d !== undefined)) fail(`${file} holds a private key; pass the public JWKS only`);
    return jwks;
  } catch (e) {
    return fail(`cannot read the JWKS file ${file}: ${e.message}`);
  }
}

function tlsOptions(certFile, keyFile) {
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) fail('--tls-cert and --tls-key go together');
  try {
    return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  } catch (e) {
    return fail(`cannot read the TLS files: ${e.message}`);
  }
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => resolve(server.address().port));
  });
}

/**
 * Routes one request: the control endpoint, else anything under the issuer
 * path to the provider (with the path prefix stripped and `originalUrl`
 * kept, which is how oidc-provider learns its mount path), else 404.
 */
function router(prefix, state, callback) {
  return (req, res) => {
    const path = req.url.split('?')[0];
    if (path === CONTROL_PATH) {
      handleControl(state, req, res).catch((e) => {
        res.writeHead(500);
        res.end(String(e.message));
      });
      return;
    }
    if (prefix === '' || path === prefix || path.startsWith(`${prefix}/`)) {
      req.originalUrl = req.url;
      req.url = req.url.slice(prefix.length) || '/';
      callback(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  };
}

async function main() {
  const opts = readOptions();
  const port = integer('port', opts.port, 0, 65535);
  const prefix = issuerPath(opts['issuer-path']);
  const tls = tlsOptions(opts['tls-cert'], opts['tls-key']);
  const jwks = readJwks(opts['jwks-file']);
  const ttl = {
    accessToken: integer('access-token-ttl', opts['access-token-ttl'], 1, 86400),
    deviceCode: integer('device-code-ttl', opts['device-code-ttl'], 1, 86400),
  };
  const deviceInterval = opts['device-interval'] === undefined
    ? undefined : integer('device-interval', opts['device-interval'], 0, 60);
  const state = initialState({
    strictScopes: Boolean(opts['strict-scopes']),
    microsoftErrors: Boolean(opts['microsoft-errors']),
    deviceInterval,
  });

  // The issuer holds the port, so the listener comes first and the provider
  // is attached to it once the port is known.
  let handler = (_req, res) => { res.writeHead(503); res.end(); };
  const server = tls
    ? https.createServer(tls, (req, res) => handler(req, res))
    : http.createServer((req, res) => handler(req, res));
  const bound = await listen(server, port).catch((e) => fail(`cannot listen on 127.0.0.1:${port}: ${e.message}`));
  const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${bound}`;
  const issuer = `${origin}${prefix}`;

  const provider = new Provider(issuer, providerConfiguration({ state, jwks, ttl }));
  installControls(provider, state);
  handler = router(prefix, state, provider.callback());

  const clients = Object.fromEntries(Object.entries(CLIENTS)
    .filter(([key]) => key !== 'private_key_jwt' || jwks)
    .map(([key, c]) => [key, { ...c }]));
  const line = {
    issuer,
    port: bound,
    tls: Boolean(tls),
    clients,
    web_redirect_uri: WEB_REDIRECT_URI,
    api: API,
    control_url: `${origin}${CONTROL_PATH}`,
    microsoft_errors: state.microsoftErrors,
    device_interval: deviceInterval ?? null,
    pid: process.pid,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);

  // State is in memory only, so there is nothing to flush: go at once.
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (opts['exit-on-stdin-close']) {
    // The harness holds our stdin; when it dies, even by SIGKILL, the pipe
    // closes and we go too, so no provider outlives its test run.
    process.stdin.on('end', () => process.exit(0));
    process.stdin.on('error', () => process.exit(0));
    process.stdin.resume();
  }
}

main().catch((e) => fail(e.stack || String(e)));
