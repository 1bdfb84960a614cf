// The generated guards against the repository's fixture frames: every frame the contract knows
// passes the guard of its direction, and a frame of a newer contract does not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isClientMessage, isDisconnectReason, isErrorCode, isServerMessage, isSubscription } from "../ws-message-guards.mjs";

const frames = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../Tests/Fixtures/frames");
const load = (folder) =>
  readdirSync(path.join(frames, folder))
    .filter((name) => name.endsWith(".json"))
    .map((name) => ({ name: `${folder}/${name}`, frame: JSON.parse(readFileSync(path.join(frames, folder, name), "utf8")) }));

test("every known server frame is a ServerMessage; an unknown type is not", () => {
  const server = [...load("server"), ...load("tolerated/server")];
  assert.ok(server.length >= 16);
  for (const { name, frame } of server) {
    assert.equal(isServerMessage(frame), !name.split("/").at(-1).startsWith("unknown"), name);
    assert.equal(isClientMessage(frame), false, name);
  }
});

test("every known client frame is a ClientMessage", () => {
  for (const { name, frame } of load("client")) {
    assert.equal(isClientMessage(frame), true, name);
    assert.equal(isServerMessage(frame), false, name);
  }
});

test("tags by pattern, and values of open enums", () => {
  assert.equal(isServerMessage({ type: "fleet_update" }), true);
  assert.equal(isServerMessage({ type: "fleet-update" }), false);
  assert.equal(isServerMessage({ type: 7 }), false);
  assert.equal(isServerMessage(null), false);
  assert.equal(isServerMessage("pong"), false);
  assert.equal(isSubscription("alerts"), true);
  assert.equal(isSubscription("weather"), false);
  assert.equal(isErrorCode("rate_limited"), true);
  assert.equal(isDisconnectReason("maintenance window"), false);
});
