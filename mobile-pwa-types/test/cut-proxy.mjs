// A loopback TCP proxy that cuts its clients off the way a phone losing its network is cut off:
// the client's socket is destroyed, while the gateway's side stays open and silent (what the
// gateway writes is read and dropped), so the gateway never learns the client left. Until
// `restore()`, new connections are refused, so that events are published while the client is away.
import net from "node:net";

export function startCutProxy(targetPort) {
  const pairs = new Set();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) { client.destroy(); return; }
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair = { client, upstream, cut: false };
    pairs.add(pair);
    client.on("data", (chunk) => { if (!pair.cut) upstream.write(chunk); });
    upstream.on("data", (chunk) => { if (!pair.cut) client.write(chunk); });
    client.on("close", () => { if (!pair.cut) upstream.destroy(); });
    upstream.on("close", () => { if (!pair.cut) client.destroy(); });
    client.on("error", () => {});
    upstream.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
    port: server.address().port,
    /** Cuts every client off, unbeknown to the gateway, and refuses new connections. */
    cut() {
      refusing = true;
      for (const pair of pairs) { pair.cut = true; pair.client.destroy(); }
    },
    restore() { refusing = false; },
    close() {
      for (const pair of pairs) { pair.client.destroy(); pair.upstream.destroy(); }
      server.close();
    },
  })));
}
