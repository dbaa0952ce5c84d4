// Load generator for bench/emulator.sh: client-credentials token requests
// against an emulator, over kept-alive connections, for a fixed time.
// Usage: node bench/emulator_load.mjs BASE_URL SECONDS CONCURRENCY
// Prints one JSON line: requests, non-200 answers, seconds, requests/s.
// For https, NODE_EXTRA_CA_CERTS must name the emulator's CA.
import http from "node:http";
import https from "node:https";

const [base, seconds = "10", concurrency = "16"] = process.argv.slice(2);
const url = new URL(`${base}/emulator.idflow.test/oauth2/v2.0/token`);
const lib = url.protocol === "https:" ? https : http;
const agent = new lib.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const body = new URLSearchParams({
  grant_type: "client_credentials",
  client_id: "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10",
  client_secret: "emulator-secret-do-not-use-in-production",
  scope: "https://graph.microsoft.com/.default",
}).toString();

function once() {
  return new Promise((resolve, reject) => {
    const req = lib.request(url, {
      method: "POST",
      agent,
      headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const deadline = performance.now() + Number(seconds) * 1000;
let done = 0;
let bad = 0;
const start = performance.now();
await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
  while (performance.now() < deadline) {
    const status = await once();
    done += 1;
    if (status !== 200) bad += 1;
  }
}));
const elapsed = (performance.now() - start) / 1000;
console.log(JSON.stringify({ requests: done, non_200: bad, seconds: +elapsed.toFixed(2), per_second: Math.round(done / elapsed) }));
agent.destroy();
