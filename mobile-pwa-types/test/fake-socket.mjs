// An in-process stand-in for WebSocket, for the unit tests only: it lets a test play the
// server's part frame by frame (a contract major mismatch, a notice, silence) with manual timers.
export class FakeSocket {
  static instances = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.sentText = [];
    this.closedWith = null;
    FakeSocket.instances.push(this);
  }
  open() { this.readyState = 1; this.onopen?.(); }
  receive(frame) { this.onmessage?.({ data: JSON.stringify(frame) }); }
  send(text) { this.sentText.push(text); this.sent.push(JSON.parse(text)); }
  close(code, reason) { this.closedWith = { code, reason }; this.readyState = 3; }
  serverClose(code, reason = "") { this.readyState = 3; this.onclose?.({ code, reason }); }
}

/** Timers a test advances by hand. */
export class ManualTimers {
  constructor() { this.now = 0; this.pending = new Map(); this.nextId = 1; }
  setTimeout(callback, ms) { const id = this.nextId++; this.pending.set(id, { at: this.now + ms, callback, ms }); return id; }
  clearTimeout(id) { this.pending.delete(id); }
  /** Delays of the timers now pending, in the order they were set. */
  delays() { return [...this.pending.values()].map((timer) => timer.ms); }
  advance(ms) {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, timer]) => timer.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].callback();
    }
    this.now = until;
  }
}

export function established(overrides = {}) {
  return {
    type: "connection_established", connection_id: "c-1", subscriptions: ["agents", "system"],
    server_time: "2026-11-27T00:00:00.000Z", contract_version: "1.2.0",
    correlation_id: "x", timestamp: "2026-11-27T00:00:00.000Z", ...overrides,
  };
}
