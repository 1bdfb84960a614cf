// Unit tests of the reference client's decisions, with injected timers, random source and socket.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HiveOpsClient, backoffDelay } from "../ws-client.mjs";
import { FakeSocket, ManualTimers, established } from "./fake-socket.mjs";

function makeClient(options = {}) {
  FakeSocket.instances = [];
  const timers = new ManualTimers();
  const client = new HiveOpsClient({
    url: "ws://gateway/api/dashboard/ws/agents", WebSocket: FakeSocket, timers,
    random: () => 0.5, now: () => timers.now, probeRefusal: () => null, ...options,
  });
  return { client, timers, socket: () => FakeSocket.instances.at(-1) };
}

test("backoff: full jitter under min(cap, base * 2^attempt)", () => {
  const schedule = [0, 1, 2, 3, 4, 5, 6, 10].map((attempt) => backoffDelay(attempt, { random: () => 0.999999 }));
  assert.deepEqual(schedule, [999, 1999, 3999, 7999, 15999, 29999, 29999, 29999]);
  assert.equal(backoffDelay(3, { random: () => 0 }), 0);
  assert.equal(backoffDelay(2, { random: () => 0.5 }), 2000);
});

test("reconnect delays grow, then reset after connection_established", () => {
  const { client, timers, socket } = makeClient();
  client.start();
  socket().open();
  socket().receive(established());
  const retries = [];
  client.on("retry", (retry) => retries.push(retry.delayMs));
  for (let i = 0; i < 4; i++) {
    socket().serverClose(1006);
    timers.advance(retries.at(-1)); // the retry fires; the new attempt is still within its connect timeout
  }
  assert.deepEqual(retries, [500, 1000, 2000, 4000]);
  socket().open();
  socket().receive(established());
  socket().serverClose(1006);
  assert.deepEqual(retries.at(-1), 500, "the schedule starts over after a successful connection");
});

test("never retries after a policy or auth close", () => {
  for (const code of [1008, 4401, 4403]) {
    const { client, socket } = makeClient();
    let gaveUp = false;
    client.on("gave-up", () => { gaveUp = true; });
    client.start();
    socket().open();
    socket().receive(established());
    socket().serverClose(code);
    assert.equal(client.state, "stopped", `code ${code}`);
    assert.ok(gaveUp);
  }
});

test("backpressure and server_shutdown notices retry after at least the hinted delay", () => {
  for (const reason of ["backpressure", "server_shutdown"]) {
    const { client, timers, socket } = makeClient();
    client.start();
    socket().open();
    socket().receive(established());
    socket().receive({ type: "disconnect_notice", reason, reconnect: { allowed: true, delay_ms: 5000 }, correlation_id: "n", timestamp: "t" });
    socket().serverClose(reason === "backpressure" ? 1013 : 1001, reason);
    assert.equal(client.state, "waiting");
    assert.deepEqual(timers.delays(), [5000]);
  }
});

test("idle_timeout reconnects only while the application wants the stream", () => {
  for (const wanted of [true, false]) {
    const { client, socket } = makeClient({ wantsStream: () => wanted });
    client.start();
    socket().open();
    socket().receive(established());
    socket().receive({ type: "disconnect_notice", reason: "idle_timeout", reconnect: { allowed: true }, correlation_id: "n", timestamp: "t" });
    socket().serverClose(1000, "idle_timeout");
    assert.equal(client.state, wanted ? "waiting" : "stopped");
  }
});

test("a notice that forbids reconnecting stops the client", () => {
  const { client, socket } = makeClient();
  client.start();
  socket().open();
  socket().receive(established());
  socket().receive({ type: "disconnect_notice", reason: "replaced", reconnect: { allowed: false }, correlation_id: "n", timestamp: "t" });
  socket().serverClose(1000, "replaced");
  assert.equal(client.state, "stopped");
});

test("a different contract major stops the client with version-mismatch; a newer minor is fine", () => {
  const { client, socket } = makeClient();
  let mismatch = null;
  client.on("version-mismatch", (event) => { mismatch = event; });
  client.start();
  socket().open();
  socket().receive(established({ contract_version: "2.0.0" }));
  assert.deepEqual(mismatch, { server: "2.0.0", client: "1.2.0" });
  assert.equal(client.state, "stopped");

  const newer = makeClient();
  newer.client.start();
  newer.socket().open();
  newer.socket().receive(established({ contract_version: "1.4.0" }));
  assert.equal(newer.client.state, "open");
});

test("pings every 15 s and treats a missing answer as a dead connection", () => {
  const { client, timers, socket } = makeClient();
  client.start();
  const first = socket();
  first.open();
  first.receive(established());
  timers.advance(15_000);
  assert.equal(first.sent.at(-1).type, "ping");
  first.receive({ type: "pong", correlation_id: "p", timestamp: "t" });
  timers.advance(15_000);
  assert.equal(first.sent.filter((m) => m.type === "ping").length, 2);
  timers.advance(10_000);
  assert.deepEqual(first.closedWith, { code: 4000, reason: "heartbeat timeout" });
  assert.equal(client.state, "waiting");
});

test("the heartbeat is the PWA's, byte for byte: client_time is a number of milliseconds", () => {
  const epoch = Date.UTC(2026, 11, 2, 4, 28, 49, 367);
  const { client, timers, socket } = makeClient({ now: () => epoch + timers.now });
  client.start();
  socket().open();
  socket().receive(established());
  timers.advance(15_000);
  assert.equal(socket().sentText.at(-1), '{"type":"ping","timestamp":"2026-12-02T04:29:04.367Z","client_time":1796185744367}');
});

test("a refused handshake whose URL answers 401 or 403 is never retried", async () => {
  for (const status of [401, 403]) {
    const { client, socket } = makeClient({ probeRefusal: async () => status });
    let gaveUp = null;
    client.on("gave-up", (event) => { gaveUp = event; });
    client.start();
    socket().onerror?.({});
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(client.state, "stopped");
    assert.equal(gaveUp.code, status === 401 ? 4401 : 4403);
  }
});

test("a handshake that fails with only an error event, or never completes, is retried", async () => {
  const { client, timers, socket } = makeClient();
  client.start();
  socket().onerror?.({});
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(client.state, "waiting");
  timers.advance(1_000);
  assert.equal(FakeSocket.instances.length, 2);
  timers.advance(10_000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(client.state, "waiting", "no connection_established within the connect timeout");
  assert.ok(FakeSocket.instances[1].closedWith);
});

test("after a reconnect the client re-subscribes its topics and reports the gap", () => {
  const { client, timers, socket } = makeClient({ subscriptions: ["agents", "system", "tasks"] });
  client.start();
  socket().open();
  socket().receive(established());
  assert.deepEqual(socket().sent.at(-1), { type: "subscribe", subscriptions: ["tasks"] });
  socket().receive({ type: "subscription_updated", subscriptions: ["agents", "system", "tasks"], correlation_id: "s", timestamp: "t" });
  let reconnected = null;
  client.on("reconnected", (event) => { reconnected = event; });
  socket().serverClose(1006);
  timers.advance(2_000);
  socket().open();
  socket().receive(established());
  assert.deepEqual(socket().sent.at(-1), { type: "subscribe", subscriptions: ["tasks"] });
  assert.deepEqual(reconnected, { gapMs: 2000, resubscribed: ["tasks"] });
});

test("closing a failed attempt that reports error at once fails it once (Node 20's WebSocket does)", async () => {
  // A socket still connecting whose close() dispatches `error` synchronously, as undici's does.
  class ErrorOnCloseSocket extends FakeSocket {
    close(code, reason) { super.close(code, reason); this.onerror?.({}); }
  }
  let probes = 0;
  const { client, timers } = makeClient({ WebSocket: ErrorOnCloseSocket, probeRefusal: () => { probes += 1; return null; } });
  const retries = [];
  client.on("retry", (retry) => retries.push(retry.delayMs));
  client.start();
  FakeSocket.instances.at(-1).onerror?.({});
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(probes, 1, "one refusal probe per failed attempt");
  assert.deepEqual(retries, [500], "one retry scheduled");
  assert.equal(client.state, "waiting");
  timers.advance(500);
  assert.equal(FakeSocket.instances.length, 2, "the retry opened one new socket");
});

test("a frame of a type this contract does not know goes to unknown-frame, never to message", () => {
  const { client, socket } = makeClient();
  const messages = [];
  const unknown = [];
  client.on("message", (message) => messages.push(message.type));
  client.on("unknown-frame", (frame) => unknown.push(frame));
  client.start();
  socket().open();
  socket().receive(established());
  socket().receive({ type: "agent_heartbeat", agent: "a-1", correlation_id: "h", timestamp: "t" });
  socket().receive({ type: "task_update", subscription: "tasks", data: {}, correlation_id: "u", timestamp: "t" });
  socket().receive({ type: "Task_update", subscription: "tasks", data: {}, correlation_id: "v", timestamp: "t" });
  socket().receive([1, 2, 3]);
  assert.deepEqual(messages, ["connection_established", "task_update"]);
  assert.deepEqual(unknown.map((frame) => frame.type), ["agent_heartbeat", "Task_update"]);
  assert.equal(unknown[0].agent, "a-1", "kept as sent");
  assert.equal(client.state, "open", "an unknown frame changes nothing else");
});

/** A broadcast frame at its place in the history. */
function update(topic, offset, epoch = "e1") {
  return { type: "agent_update", subscription: topic, data: { offset }, offset, epoch, correlation_id: `c-${offset}`, timestamp: "2026-12-06T00:00:00.000Z" };
}

test("keeps each topic's position and reconnects with it in the query", () => {
  const { client, timers, socket } = makeClient({ subscriptions: ["agents", "system"] });
  client.start();
  assert.equal(socket().url, "ws://gateway/api/dashboard/ws/agents", "nothing to recover on the first connect");
  socket().open();
  socket().receive(established({ streams: { agents: { epoch: "e1", offset: 4 }, system: { epoch: "e1", offset: 0 } } }));
  socket().receive(update("agents", 5));
  socket().receive(update("agents", 6));
  assert.deepEqual(client.positions(), { epoch: "e1", offsets: { agents: 6, system: 0 } });
  socket().serverClose(1006);
  timers.advance(1000);
  const url = new URL(socket().url);
  assert.equal(url.searchParams.get("epoch"), "e1");
  assert.equal(url.searchParams.get("offsets"), "agents:6,system:0");
});

test("a topic not recovered gets a snapshot request and a resync event; a recovered one does not", () => {
  const { client, socket } = makeClient({ subscriptions: ["agents", "system"], resume: { epoch: "e0", offsets: { agents: 9, system: 2 } } });
  const events = [];
  client.on("recovery", (event) => events.push(["recovery", event]));
  client.on("resync", (event) => events.push(["resync", event]));
  client.start();
  assert.equal(new URL(socket().url).searchParams.get("offsets"), "agents:9,system:2", "resume: the first connect recovers");
  socket().open();
  socket().receive(established({
    streams: {
      agents: { epoch: "e1", offset: 3, recovered: false, reason: "epoch_changed" },
      system: { epoch: "e1", offset: 5, recovered: true, replayed: 3 },
    },
  }));
  assert.deepEqual(events, [
    ["recovery", { recovered: ["system"], lost: [{ topic: "agents", reason: "epoch_changed" }] }],
    ["resync", { topics: ["agents"], requested: ["agent_status"] }],
  ]);
  assert.deepEqual(socket().sent.filter((m) => m.type === "request_data"), [{ type: "request_data", data_type: "agent_status" }]);
  assert.equal(client.recovered.get("agents"), false);
  assert.equal(client.recovered.get("system"), true);
  assert.deepEqual(client.positions(), { epoch: "e1", offsets: { agents: 3, system: 5 } });
});

test("a topic the server did not give back is re-subscribed with its position", () => {
  const { client, timers, socket } = makeClient({ subscriptions: ["agents", "tasks"] });
  client.start();
  socket().open();
  socket().receive(established({ subscriptions: ["agents"], streams: { agents: { epoch: "e1", offset: 1 } } }));
  socket().receive({ type: "subscription_updated", subscriptions: ["agents", "tasks"], streams: { tasks: { epoch: "e1", offset: 7 } }, correlation_id: "u", timestamp: "t" });
  socket().serverClose(1006);
  timers.advance(1000);
  socket().open();
  socket().receive(established({ subscriptions: ["agents"], streams: { agents: { epoch: "e1", offset: 1, recovered: true, replayed: 0 } } }));
  assert.deepEqual(socket().sent.at(-1), { type: "subscribe", subscriptions: ["tasks"], recover: { epoch: "e1", offsets: { tasks: 7 } } });
});

test("a live frame of a new epoch puts the other topics at 0 in it; only later offsets move a position", () => {
  const { client, socket } = makeClient({ subscriptions: ["agents", "system"] });
  client.start();
  socket().open();
  socket().receive(established({ streams: { agents: { epoch: "e1", offset: 8 }, system: { epoch: "e1", offset: 3 } } }));
  socket().receive(update("agents", 7));
  assert.deepEqual(client.positions(), { epoch: "e1", offsets: { agents: 8, system: 3 } }, "an event from before the position moves nothing");
  socket().receive(update("agents", 1, "e2"));
  assert.deepEqual(client.positions(), { epoch: "e2", offsets: { agents: 1, system: 0 } });
});
