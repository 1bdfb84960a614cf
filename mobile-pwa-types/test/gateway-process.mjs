// Starts the real hiveops-gateway binary on a loopback port for the client tests.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const binary = process.env.HIVEOPS_GATEWAY_BIN ?? path.join(root, ".build/debug/hiveops-gateway");

/** Starts the gateway (port 0 picks a free one) and resolves once it logs its ready line. */
export function startGateway(port = 0, extraArgs = []) {
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run swift build first`);
  const child = spawn(binary, ["--port", String(port), ...extraArgs], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => { child.kill(); reject(new Error(`gateway not ready:\n${log}`)); }, 30_000);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const ready = log.match(/address=http:\/\/127\.0\.0\.1:(\d+).*hiveops-gateway ready/);
      if (ready) {
        clearTimeout(timeout);
        resolve({
          port: Number(ready[1]),
          stop: () => new Promise((done) => { child.once("exit", (code) => done(code)); child.kill("SIGTERM"); }),
          child,
        });
      }
    });
    child.once("exit", (code) => { clearTimeout(timeout); reject(new Error(`gateway exited ${code}:\n${log}`)); });
  });
}

/** Resolves with the first payload of `event`, or rejects after `ms`. */
export function next(client, event, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no ${event} within ${ms} ms`)); }, ms);
    const off = client.on(event, (payload) => { clearTimeout(timer); off(); resolve(payload); });
  });
}
