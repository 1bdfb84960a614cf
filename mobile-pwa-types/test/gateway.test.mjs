// The reference client against the real hiveops-gateway binary over loopback.
// Run with: node --experimental-websocket --test test/
import { test } from "node:test";
import http from "node:http";
import assert from "node:assert/strict";
import { HiveOpsClient } from "../ws-client.mjs";
import { next, startGateway } from "./gateway-process.mjs";

const fastBackoff = { baseMs: 100, factor: 2, capMs: 1000 };

/** A POST on a connection of its own; resolves with the status. */
function post(url) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "POST", agent: false }, (response) => { response.resume(); resolve(response.statusCode); });
    request.on("error", reject);
    request.end();
  });
}

test("first frame and typed events, then a subscribe round trip", async () => {
  const gateway = await startGateway();
  const client = new HiveOpsClient({ url: `ws://127.0.0.1:${gateway.port}/api/dashboard/ws/dashboard?subscriptions=agents`, backoff: fastBackoff });
  try {
    const established = next(client, "connection_established");
    const initialized = next(client, "dashboard_initialized");
    client.start();
    const first = await established;
    assert.equal(first.type, "connection_established");
    assert.deepEqual(first.subscriptions, ["agents"]);
    assert.equal((await initialized).connection_info.client_type, "full_dashboard");
    assert.equal(client.state, "open");

    const updated = next(client, "subscription_updated");
    client.subscribe(["alerts"]);
    assert.deepEqual((await updated).subscriptions, ["agents", "alerts"]);

    const update = next(client, "agent_update");
    const response = await fetch(`http://127.0.0.1:${gateway.port}/api/dashboard/websocket/broadcast?subscription=agents&message_type=agent_update`, {
      method: "POST", body: JSON.stringify({ agents: [{ id: "a-1" }] }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual((await update).data, { agents: [{ id: "a-1" }] });
  } finally {
    client.stop();
    await gateway.stop();
  }
});

test("the server stops and starts again: the client reconnects with backoff and re-subscribes", async () => {
  let gateway = await startGateway();
  const port = gateway.port;
  const client = new HiveOpsClient({ url: `ws://127.0.0.1:${port}/api/dashboard/ws/agents`, subscriptions: ["agents", "system", "tasks"], backoff: fastBackoff });
  try {
    const established = next(client, "connection_established");
    client.start();
    await established;
    await next(client, "subscription_updated");
    assert.deepEqual([...client.topics].sort(), ["agents", "system", "tasks"]);

    const notice = next(client, "notice");
    const firstRetry = next(client, "retry");
    const exitCode = await gateway.stop();
    assert.equal(exitCode, 0);
    assert.equal((await notice).reason, "server_shutdown");
    assert.ok((await firstRetry).delayMs >= 1000, "a shutdown notice asks for at least its hinted delay");

    const reconnected = next(client, "reconnected", 30_000);
    gateway = await startGateway(port);
    const event = await reconnected;
    assert.ok(event.gapMs > 0);
    assert.deepEqual(event.resubscribed, ["tasks"]);
    const updated = await next(client, "subscription_updated");
    assert.deepEqual(updated.subscriptions, ["agents", "system", "tasks"]);
  } finally {
    client.stop();
    await gateway.stop();
  }
});

test("an admin disconnect is reported and the client comes back", async () => {
  const gateway = await startGateway();
  const client = new HiveOpsClient({ url: `ws://127.0.0.1:${gateway.port}/api/dashboard/ws/system?connection_id=pwa-1`, backoff: fastBackoff });
  try {
    const established = next(client, "connection_established");
    client.start();
    await established;
    const notice = next(client, "notice");
    const closed = next(client, "closed");
    // Not fetch(): undici would pool that connection and try the client's next WebSocket handshake on
    // it, and an upgrade must be the first request of its TCP connection (README, known limitations).
    assert.equal(await post(`http://127.0.0.1:${gateway.port}/api/dashboard/websocket/disconnect/pwa-1?reason=rotate`), 200);
    const reported = await notice;
    assert.equal(reported.reason, "admin");
    assert.equal(reported.detail, "rotate");
    assert.equal((await closed).code, 1000);
    const back = await next(client, "reconnected", 15_000);
    assert.ok(back.gapMs >= 1000, `waited the hinted delay (${back.gapMs} ms)`);
  } finally {
    client.stop();
    await gateway.stop();
  }
});

test("with auth on, a refused upgrade stops the client with 4401 and the query token connects", async () => {
  const gateway = await startGateway(0, ["--auth-required", "--auth-token", "pwa-test-token-1234"]);
  const base = `ws://127.0.0.1:${gateway.port}/api/dashboard/ws/agents`;
  const refused = new HiveOpsClient({ url: base, backoff: fastBackoff });
  const accepted = new HiveOpsClient({ url: `${base}?access_token=pwa-test-token-1234`, backoff: fastBackoff });
  try {
    const gaveUp = next(refused, "gave-up");
    refused.start();
    const event = await gaveUp;
    assert.equal(event.code, 4401);
    assert.equal(refused.state, "stopped");

    const established = next(accepted, "connection_established");
    accepted.start();
    assert.equal((await established).type, "connection_established");
  } finally {
    refused.stop();
    accepted.stop();
    await gateway.stop();
  }
});
