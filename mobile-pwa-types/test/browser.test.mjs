// The reference client in a real browser: headless Chromium (Debian's package) loads a page that
// uses ws-client.mjs against the real gateway binary, driven over the DevTools protocol.
// Chromium offers permessage-deflate on every WebSocket; the page must receive the real frame
// shapes compressed and intact. Set HIVEOPS_CHROMIUM to the browser's path (default: chromium).
// Run with: node --experimental-websocket --test test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startCutProxy } from "./cut-proxy.mjs";
import { startGateway } from "./gateway-process.mjs";

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const chromiumPath = process.env.HIVEOPS_CHROMIUM ?? "chromium";

/** The page: connects with the reference client and keeps every typed frame it receives. */
const page = `<!doctype html><meta charset="utf-8"><title>HiveOps browser test</title>
<script type="module">
import { HiveOpsClient } from "/ws-client.mjs";
window.received = [];
window.recoveries = [];
window.ready = new Promise((resolve) => {
  const client = new HiveOpsClient({
    url: new URLSearchParams(location.search).get("ws"),
    subscriptions: ["agents", "system", "alerts"],
    backoff: { baseMs: 100, factor: 2, capMs: 500 },
  });
  window.client = client;
  client.on("message", (message) => window.received.push(message));
  client.on("recovery", (recovery) => window.recoveries.push(recovery));
  client.on("subscription_updated", () => resolve(true));
  client.start();
});
window.framesOf = (types, count) => new Promise((resolve, reject) => {
  const deadline = Date.now() + 10000;
  const poll = () => {
    const found = window.received.filter((m) => types.includes(m.type));
    if (found.length >= count) return resolve(JSON.stringify(found));
    if (Date.now() > deadline) return reject(new Error("received only " + JSON.stringify(window.received.map((m) => m.type))));
    setTimeout(poll, 20);
  };
  poll();
});
</script>`;

/** A loopback HTTP server for the page, the client module and the guards it imports. */
function servePage() {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url, "http://127.0.0.1");
    if (url.pathname === "/") {
      response.writeHead(200, { "content-type": "text/html" }).end(page);
    } else if (url.pathname === "/ws-client.mjs" || url.pathname === "/ws-message-guards.mjs") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(path.join(packageRoot, url.pathname.slice(1))));
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** A free loopback port for the browser's DevTools endpoint. */
function freePort() {
  const server = http.createServer();
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => { const { port } = server.address(); server.close(() => resolve(port)); }));
}

/** Starts headless Chromium on a blank page; resolves with a DevTools session on it. */
async function startBrowser() {
  const url = "about:blank";
  const port = await freePort();
  const profile = mkdtempSync(path.join(tmpdir(), "hiveops-chromium-"));
  const browser = spawn(chromiumPath, [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", `--remote-debugging-port=${port}`, `--user-data-dir=${profile}`, url,
  ], { stdio: "ignore", detached: true });
  const exited = new Promise((resolve) => browser.once("exit", resolve));
  const stop = async () => {
    // Chromium's helpers (renderer, zygote, crashpad) share its process group (detached: it leads
    // one): kill them all, or they go on writing into the profile while it is removed.
    try { process.kill(-browser.pid, "SIGKILL"); } catch { browser.kill("SIGKILL"); }
    await exited;
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  try {
    const deadline = Date.now() + 30_000;
    let target;
    while (!target) {
      if (Date.now() > deadline) throw new Error(`no page on the DevTools endpoint of ${chromiumPath}`);
      try {
        const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
        target = targets.find((candidate) => candidate.type === "page");
      } catch { /* not listening yet */ }
      if (!target) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const devtools = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => { devtools.onopen = resolve; devtools.onerror = reject; });
    let nextId = 1;
    const pending = new Map();
    const events = [];
    devtools.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.id && pending.has(message.id)) { pending.get(message.id)(message); pending.delete(message.id); } else events.push(message);
    };
    const send = (method, params = {}) => new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      devtools.send(JSON.stringify({ id, method, params }));
    });
    /** Evaluates `expression` in the page, awaiting a promise; throws what the page threw. */
    const evaluate = async (expression) => {
      const { result } = await send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
      if (result.exceptionDetails) throw new Error(`page: ${result.exceptionDetails.exception?.description ?? result.exceptionDetails.text}`);
      return result.result.value;
    };
    return { send, evaluate, events, stop: async () => { devtools.close(); await stop(); } };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function post(port, topic, type, data) {
  const response = await fetch(`http://127.0.0.1:${port}/api/dashboard/websocket/broadcast?subscription=${topic}&message_type=${type}`, {
    method: "POST", body: JSON.stringify(data),
  });
  assert.equal(response.status, 200);
}

async function metric(port, name) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(name + " "));
  assert.ok(line, `no ${name} in /metrics`);
  return Number(line.split(" ").at(-1));
}

const fleet = {
  agents: Array.from({ length: 60 }, (_, i) => ({
    id: `agent-${i}`, name: `worker-${i}`, status: i % 7 === 0 ? "idle" : "active",
    current_task: { id: `task-${1000 + i}`, title: "Index the repository and summarise changes", progress: (i * 13) % 100 },
    load: (i % 10) / 10, last_heartbeat: `2026-12-02T14:0${i % 10}:00.000Z`,
  })),
};
const systemEvent = {
  cpu_percent: 41.5, memory_percent: 63.2, active_agents: 57, queued_tasks: 12,
  components: Object.fromEntries(["redis", "postgres", "orchestrator", "scheduler"].map((name) => [name, { status: "healthy", latency_ms: 3.1 }])),
};
const alert = { alerts: [{ id: "disk-full", severity: "critical", message: "Disk usage above 95% on worker-12" }] };

/** Loads the page in the browser against `wsURL` and waits until its client has subscribed. */
async function openPage(browser, server, wsURL) {
  const pageURL = `http://127.0.0.1:${server.address().port}/?ws=${encodeURIComponent(wsURL)}`;
  // Network events from before the page connects: its handshake's answer, as Chromium saw it.
  await browser.send("Network.enable");
  await browser.send("Page.navigate", { url: pageURL });
  let ready = false;
  for (const deadline = Date.now() + 20_000; !ready && Date.now() < deadline;) {
    // The blank page's context goes away as the page loads: ask again until the new one answers.
    ready = await browser.evaluate("window.ready ?? false").catch(() => false);
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(ready, true, "the page did not subscribe");
}

test("Chromium negotiates permessage-deflate and the reference client gets the real frame shapes intact", { timeout: 120_000 }, async () => {
  const gateway = await startGateway();
  const server = await servePage();
  let browser;
  try {
    browser = await startBrowser();
    await openPage(browser, server, `ws://127.0.0.1:${gateway.port}/api/dashboard/ws/dashboard`);
    const handshake = browser.events.find((event) => event.method === "Network.webSocketHandshakeResponseReceived");
    assert.ok(handshake, "Chromium reported no WebSocket handshake");
    const headers = Object.fromEntries(Object.entries(handshake.params.response.headers).map(([name, value]) => [name.toLowerCase(), value]));
    assert.match(headers["sec-websocket-extensions"] ?? "", /^permessage-deflate; server_no_context_takeover/);
    const before = await metric(gateway.port, "hiveops_ws_deflate_operations_total");

    await post(gateway.port, "agents", "agent_update", fleet);
    await post(gateway.port, "system", "system_event", systemEvent);
    await post(gateway.port, "alerts", "critical_alert", alert);
    const frames = JSON.parse(await browser.evaluate(`window.framesOf(["agent_update", "system_event", "critical_alert"], 3)`));
    assert.deepEqual(frames.map((frame) => frame.type), ["agent_update", "system_event", "critical_alert"]);
    assert.deepEqual(frames[0].data, fleet);
    assert.deepEqual(frames[1].data, systemEvent);
    assert.deepEqual(frames[2].data.alerts, alert.alerts);
    // The agent_update and the system_event are above the threshold: deflated for the page.
    const deflated = await metric(gateway.port, "hiveops_ws_deflate_operations_total") - before;
    assert.ok(deflated >= 2, `${deflated} messages deflated`);
    const wire = await metric(gateway.port, "hiveops_ws_compression_bytes_after_total");
    const plain = await metric(gateway.port, "hiveops_ws_compression_bytes_before_total");
    assert.ok(wire < plain / 2, `wire ${wire} bytes against ${plain} uncompressed`);
  } finally {
    // The gateway stops even when the browser's cleanup fails: a live child would keep the test process up.
    try {
      await browser?.stop();
    } finally {
      server.close();
      await gateway.stop();
    }
  }
});

test("cut off without a close, the page's client reconnects and shows every event once, in order", { timeout: 120_000 }, async () => {
  const gateway = await startGateway();
  const proxy = await startCutProxy(gateway.port);
  const server = await servePage();
  let browser;
  try {
    browser = await startBrowser();
    await openPage(browser, server, `ws://127.0.0.1:${proxy.port}/api/dashboard/ws/dashboard`);
    for (let seq = 0; seq < 5; seq++) await post(gateway.port, "agents", "agent_update", { seq });
    await browser.evaluate(`window.framesOf(["agent_update"], 5)`);

    proxy.cut();
    // The gateway still holds the cut connection open: it never learnt that the page left.
    const stats = await (await fetch(`http://127.0.0.1:${gateway.port}/api/dashboard/websocket/stats`)).json();
    assert.equal(stats.total_connections, 1);
    for (let seq = 5; seq < 205; seq++) await post(gateway.port, "agents", "agent_update", { seq });
    proxy.restore();
    for (let seq = 205; seq < 210; seq++) await post(gateway.port, "agents", "agent_update", { seq });

    const frames = JSON.parse(await browser.evaluate(`window.framesOf(["agent_update"], 210)`));
    assert.deepEqual(frames.map((frame) => frame.data.seq), Array.from({ length: 210 }, (_, seq) => seq), "every event once, in order");
    assert.deepEqual(frames.map((frame) => frame.offset), Array.from({ length: 210 }, (_, seq) => seq + 1));
    const recoveries = JSON.parse(await browser.evaluate("JSON.stringify(window.recoveries)"));
    assert.ok(recoveries.some((recovery) => recovery.recovered.includes("agents")), JSON.stringify(recoveries));
    assert.equal(await browser.evaluate(`window.client.recovered.get("agents")`), true);
    // Nothing more arrives: the replay and the live stream did not overlap.
    await post(gateway.port, "agents", "agent_update", { seq: 210 });
    const all = JSON.parse(await browser.evaluate(`window.framesOf(["agent_update"], 211)`));
    assert.equal(all.length, 211);
  } finally {
    try {
      await browser?.stop();
    } finally {
      server.close();
      proxy.close();
      await gateway.stop();
    }
  }
});
