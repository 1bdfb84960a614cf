// @ts-check
/**
 * The HiveOps reference WebSocket client: ESM, runs in browsers and in Node (global WebSocket;
 * Node 20 needs --experimental-websocket), and depends only on the generated
 * ws-message-guards.mjs beside it. Copy the two or import them.
 * RECONNECTION.md is its contract: states, close codes, notices, backoff, heartbeats.
 *
 * @typedef {import("./ws-messages").ServerMessage} ServerMessage
 * @typedef {import("./ws-messages").ClientMessage} ClientMessage
 * @typedef {import("./ws-messages").Subscription} Subscription
 * @typedef {import("./ws-client").HiveOpsClientOptions} HiveOpsClientOptions
 * @typedef {import("./ws-client").ClientState} ClientState
 */

import { isServerMessage } from "./ws-message-guards.mjs";

/** The contract version this client was written against. */
export const CLIENT_CONTRACT_VERSION = "1.2.0";

/** Close codes after which the client never reconnects: policy and auth refusals. */
export const TERMINAL_CLOSE_CODES = new Set([1008, 4401, 4403]);

/**
 * Exponential backoff with full jitter: a delay drawn uniformly from
 * [0, min(cap, base * factor^attempt)).
 * @param {number} attempt 0 for the first retry
 * @param {{ baseMs?: number, factor?: number, capMs?: number, random?: () => number }} [options]
 */
export function backoffDelay(attempt, { baseMs = 1000, factor = 2, capMs = 30000, random = Math.random } = {}) {
  const ceiling = Math.min(capMs, baseMs * Math.pow(factor, attempt));
  return Math.floor(random() * ceiling);
}

/**
 * The snapshot to ask for when a topic's missed events could not be replayed: `request_data`'s
 * data type per topic. Topics without one are only reported (`resync`), for the application to refetch.
 * @type {Partial<Record<Subscription, import("./ws-messages").DataType>>}
 */
export const SNAPSHOT_DATA_TYPES = { agents: "agent_status", coordination: "coordination_metrics", system: "system_health" };

/** @param {string} version */
function majorOf(version) {
  return Number.parseInt(String(version).split(".")[0], 10);
}

/**
 * The HTTP status of a plain GET of the WebSocket URL, or null when it cannot be had.
 * @param {string} url
 * @returns {Promise<number | null>}
 */
async function defaultRefusalProbe(url) {
  if (typeof fetch !== "function") return null;
  const response = await fetch(url.replace(/^ws/, "http"), { method: "GET" });
  return response.status;
}

export class HiveOpsClient {
  /** @param {HiveOpsClientOptions} options */
  constructor(options) {
    this.url = options.url;
    this.topics = new Set(options.subscriptions ?? []);
    this.wantsStream = options.wantsStream ?? (() => true);
    this.backoff = { baseMs: 1000, factor: 2, capMs: 30000, ...(options.backoff ?? {}) };
    this.pingIntervalMs = options.pingIntervalMs ?? 15000;
    this.pongTimeoutMs = options.pongTimeoutMs ?? 10000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10000;
    this.WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
    this.timers = options.timers ?? { setTimeout: globalThis.setTimeout.bind(globalThis), clearTimeout: globalThis.clearTimeout.bind(globalThis) };
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => Date.now());
    this.probeRefusal = options.probeRefusal ?? defaultRefusalProbe;
    /** @type {ClientState} */
    this.state = "idle";
    /** @type {Map<string, Set<(payload: any) => void>>} */
    this.listeners = new Map();
    this.attempt = 0;
    /** @type {any} */
    this.socket = null;
    /** @type {number | null} */
    this.disconnectedAt = null;
    /** @type {any} */
    this.reconnectTimer = null;
    /** @type {any} */
    this.pingTimer = null;
    /** @type {any} */
    this.pongTimer = null;
    /** @type {any} */
    this.connectTimer = null;
    /** @type {import("./ws-messages").DisconnectNotice | null} */
    this.lastNotice = null;
    this.established = false;
    /** The latest epoch of the history seen: a reconnect's URL asks to recover in it. */
    this.epoch = options.resume?.epoch ?? null;
    /** @type {Map<string, { epoch: string, offset: number }>} each topic's last position: what a reconnect recovers from */
    this.streams = new Map();
    for (const [topic, offset] of Object.entries(options.resume?.offsets ?? {})) {
      if (this.epoch !== null && typeof offset === "number") this.streams.set(topic, { epoch: this.epoch, offset });
    }
    /** @type {Map<string, boolean>} whether each topic's last recovery replayed every missed event */
    this.recovered = new Map();
  }

  /**
   * Where this client stands: store it (e.g. in sessionStorage) and pass it as `resume` to a new
   * client after a page reload, to recover what was missed meanwhile.
   * @returns {{ epoch: string | null, offsets: Record<string, number> }}
   */
  positions() {
    return { epoch: this.epoch, offsets: Object.fromEntries(this.offsetsIn(this.epoch, [...this.streams.keys()])) };
  }

  /**
   * The offsets of `topics` whose position is in `epoch`.
   * @param {string | null} epoch @param {string[]} topics @returns {[string, number][]}
   */
  offsetsIn(epoch, topics) {
    return topics.flatMap((topic) => {
      const stream = this.streams.get(topic);
      return stream && stream.epoch === epoch ? [[topic, stream.offset]] : [];
    });
  }

  /**
   * The URL of the next attempt: the configured one, with the positions of the held topics
   * (`?epoch=E&offsets=agents:12,alerts:7`) so that the gateway replays what was missed.
   */
  connectURL() {
    const held = [...this.streams.keys()].filter((topic) => this.topics.size === 0 || this.topics.has(/** @type {Subscription} */ (topic)));
    const wanted = this.offsetsIn(this.epoch, held);
    if (this.epoch === null || wanted.length === 0) return this.url;
    const url = new URL(this.url);
    url.searchParams.set("epoch", this.epoch);
    url.searchParams.set("offsets", wanted.map(([topic, offset]) => `${topic}:${offset}`).join(","));
    return url.toString();
  }

  /**
   * Listens for a server frame type (`"pong"`, `"agent_update"`, ...) or a client event
   * (`"state"`, `"open"`, `"reconnected"`, `"notice"`, `"closed"`, `"version-mismatch"`, `"message"`,
   * `"unknown-frame"`: a frame whose `type` this contract does not know, from a newer server).
   * @param {string} event
   * @param {(payload: any) => void} handler
   * @returns {() => void} unsubscribes the handler
   */
  on(event, handler) {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /** @param {string} event @param {any} payload */
  emit(event, payload) {
    for (const handler of this.listeners.get(event) ?? []) handler(payload);
  }

  /** @param {ClientState} state */
  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", state);
  }

  /** Opens the connection; reconnects on its own until `stop()`. */
  start() {
    if (this.state !== "idle" && this.state !== "stopped") return;
    this.connect();
  }

  /** Closes the connection and stops reconnecting. */
  stop() {
    this.clearTimers();
    this.setState("stopped");
    if (this.socket) {
      try { this.socket.close(1000, "client stop"); } catch { /* already closed */ }
    }
    this.socket = null;
  }

  /** @param {ClientMessage} message @returns {boolean} whether it was sent */
  send(message) {
    if (!this.socket || this.socket.readyState !== 1) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** @param {Subscription[]} topics */
  subscribe(topics) {
    for (const topic of topics) this.topics.add(topic);
    this.send({ type: "subscribe", subscriptions: topics });
  }

  /** @param {Subscription[]} topics */
  unsubscribe(topics) {
    for (const topic of topics) this.topics.delete(topic);
    this.send({ type: "unsubscribe", subscriptions: topics });
  }

  connect() {
    this.setState(this.disconnectedAt === null ? "connecting" : "reconnecting");
    this.established = false;
    this.lastNotice = null;
    const socket = new this.WebSocketImpl(this.connectURL());
    this.socket = socket;
    socket.onopen = () => this.emit("open", undefined);
    socket.onmessage = (/** @type {{ data: any }} */ event) => this.handleFrame(String(event.data));
    socket.onclose = (/** @type {{ code: number, reason: string }} */ event) => {
      if (socket === this.socket) this.handleClose(event.code, event.reason);
    };
    // A handshake that fails (refused, reset, HTTP error) may report only `error`: count it as a close.
    socket.onerror = () => {
      if (socket === this.socket && !this.established) this.failAttempt(socket, "connection failed");
    };
    this.connectTimer = this.timers.setTimeout(() => {
      if (socket === this.socket && !this.established) this.failAttempt(socket, "connect timeout");
    }, this.connectTimeoutMs);
  }

  /**
   * A handshake that failed: browsers hide the HTTP status of a refused upgrade, so ask the same URL
   * over HTTP; a 401 or 403 is an auth refusal, never retried.
   * @param {any} socket @param {string} reason
   */
  failAttempt(socket, reason) {
    if (socket !== this.socket) return; // this attempt has already failed
    // Forget the socket before closing it: closing a socket that is still connecting may report
    // `error` at once (Node's WebSocket does), which must not fail the same attempt again.
    this.socket = null;
    try { socket.close(); } catch { /* not open */ }
    const attempt = this.url;
    Promise.resolve(this.probeRefusal(attempt)).catch(() => null).then((status) => {
      if (this.state === "stopped" || this.socket !== null) return;
      if (status === 401 || status === 403) {
        this.clearTimers();
        this.setState("stopped");
        this.emit("gave-up", { code: status === 401 ? 4401 : 4403, reason: `HTTP ${status} on upgrade`, notice: null });
        return;
      }
      this.handleClose(1006, reason);
    });
  }

  /** @param {string} text */
  handleFrame(text) {
    /** @type {unknown} */
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    this.armHeartbeat();
    if (!isServerMessage(frame)) {
      // A newer server's frame (or no frame at all): handed on as it is, never as a ServerMessage.
      if (typeof frame === "object" && frame !== null && typeof (/** @type {{ type?: unknown }} */ (frame).type) === "string") {
        this.emit("unknown-frame", frame);
      }
      return;
    }
    const message = frame;
    if (message.type === "connection_established") {
      if (majorOf(message.contract_version) !== majorOf(CLIENT_CONTRACT_VERSION)) {
        this.emit("version-mismatch", { server: message.contract_version, client: CLIENT_CONTRACT_VERSION });
        this.stop();
        return;
      }
      this.established = true;
      this.attempt = 0;
      if (this.connectTimer) { this.timers.clearTimeout(this.connectTimer); this.connectTimer = null; }
      this.setState("open");
      const serverTopics = new Set(message.subscriptions);
      const missing = [...this.topics].filter((topic) => !serverTopics.has(topic));
      this.applyStreams(message.streams);
      if (this.disconnectedAt !== null) {
        const gapMs = this.now() - this.disconnectedAt;
        this.disconnectedAt = null;
        if (missing.length > 0) this.resubscribe(missing);
        this.emit("reconnected", { gapMs, resubscribed: missing });
      } else if (missing.length > 0) {
        this.resubscribe(missing);
      }
    } else if (message.type === "subscription_updated") {
      this.topics = new Set(message.subscriptions);
      this.applyStreams(message.streams);
    } else if ("subscription" in message && typeof message.subscription === "string" && typeof message.offset === "number" && typeof message.epoch === "string") {
      // A broadcast at its place in the history: the position to resume from.
      this.advance(message.subscription, message.epoch, message.offset, true);
    } else if (message.type === "disconnect_notice") {
      this.lastNotice = message;
      this.emit("notice", message);
    }
    this.emit("message", message);
    this.emit(message.type, message);
  }

  /**
   * Moves a topic's position forward: within an epoch only to a later offset (an event from before
   * the position may still arrive once, and must not make a reconnect replay what was seen).
   * A live frame of a new epoch means the history began anew while this client was connected: it
   * has every event of the new epoch, so its other topics stand at 0 in it. A position learnt from
   * a greeting changes only its own topic: the others keep their old epoch, for which the gateway
   * answers `epoch_changed` when they are re-subscribed.
   * @param {string} topic @param {string} epoch @param {number} offset @param {boolean} live
   */
  advance(topic, epoch, offset, live) {
    const current = this.streams.get(topic);
    if (current && current.epoch === epoch && offset <= current.offset) return;
    if (live && this.epoch !== null && epoch !== this.epoch) {
      for (const [other, stream] of this.streams) if (stream.epoch === this.epoch) this.streams.set(other, { epoch, offset: 0 });
    }
    this.epoch = epoch;
    this.streams.set(topic, { epoch, offset });
  }

  /**
   * Subscribes again to topics the server did not give this connection, recovering those it has a
   * position for.
   * @param {Subscription[]} topics
   */
  resubscribe(topics) {
    // One subscribe per epoch the positions are in (nearly always one), and one for topics without a position.
    const epochs = [...new Set(topics.flatMap((topic) => this.streams.get(topic)?.epoch ?? []))];
    for (const epoch of epochs) {
      const offsets = this.offsetsIn(epoch, topics);
      this.send({ type: "subscribe", subscriptions: offsets.map(([topic]) => /** @type {Subscription} */ (topic)), recover: { epoch, offsets: Object.fromEntries(offsets) } });
    }
    const fresh = topics.filter((topic) => !this.streams.has(topic));
    if (fresh.length > 0) this.send({ type: "subscribe", subscriptions: fresh });
  }

  /**
   * Takes each topic's position from `streams`, and the outcome of the topics it recovered: a topic
   * that was not recovered gets a fresh snapshot (`request_data`, where the topic has one) and is
   * reported in `resync`, so that the application never shows stale state as current.
   * @param {import("./ws-messages").TopicStreams | undefined} streams
   */
  applyStreams(streams) {
    if (!streams) return;
    /** @type {Subscription[]} */
    const recovered = [];
    /** @type {{ topic: Subscription, reason: string }[]} */
    const lost = [];
    for (const [name, stream] of Object.entries(streams)) {
      const topic = /** @type {Subscription} */ (name);
      if (typeof stream.epoch === "string" && typeof stream.offset === "number") this.advance(topic, stream.epoch, stream.offset, false);
      if (stream.recovered === true) recovered.push(topic);
      if (stream.recovered === false) lost.push({ topic, reason: stream.reason ?? "unknown" });
      if (typeof stream.recovered === "boolean") this.recovered.set(topic, stream.recovered);
    }
    if (recovered.length === 0 && lost.length === 0) return;
    /** @type {import("./ws-messages").DataType[]} */
    const dataTypes = [];
    for (const { topic } of lost) {
      const dataType = SNAPSHOT_DATA_TYPES[topic];
      if (dataType && !dataTypes.includes(dataType)) dataTypes.push(dataType);
    }
    for (const dataType of dataTypes) this.send({ type: "request_data", data_type: dataType });
    this.emit("recovery", { recovered, lost });
    if (lost.length > 0) this.emit("resync", { topics: lost.map((entry) => entry.topic), requested: dataTypes });
  }

  armHeartbeat() {
    if (this.pongTimer) { this.timers.clearTimeout(this.pongTimer); this.pongTimer = null; }
    if (this.pingTimer) this.timers.clearTimeout(this.pingTimer);
    this.pingTimer = this.timers.setTimeout(() => {
      // The PWA's heartbeat, byte for byte: `client_time` is the clock in milliseconds, a number.
      const now = this.now();
      this.send({ type: "ping", timestamp: new Date(now).toISOString(), client_time: now });
      // Any frame re-arms the heartbeat; silence past the deadline means a dead connection.
      this.pongTimer = this.timers.setTimeout(() => {
        this.emit("heartbeat-timeout", undefined);
        if (this.socket) { try { this.socket.close(4000, "heartbeat timeout"); } catch { /* closed */ } }
        this.handleClose(4000, "heartbeat timeout");
      }, this.pongTimeoutMs);
    }, this.pingIntervalMs);
  }

  /** @param {number} code @param {string} reason */
  handleClose(code, reason) {
    if (this.state === "stopped" || this.state === "waiting") return;
    this.socket = null;
    this.clearTimers();
    if (this.disconnectedAt === null) this.disconnectedAt = this.now();
    const notice = this.lastNotice;
    this.emit("closed", { code, reason, notice });
    const decision = this.decide(code, notice);
    if (!decision.retry) {
      this.setState("stopped");
      this.emit("gave-up", { code, reason, notice });
      return;
    }
    const delay = Math.max(decision.minimumDelayMs, backoffDelay(this.attempt, { ...this.backoff, random: this.random }));
    this.attempt += 1;
    this.setState("waiting");
    this.emit("retry", { attempt: this.attempt, delayMs: delay });
    this.reconnectTimer = this.timers.setTimeout(() => this.connect(), delay);
  }

  /**
   * What a close means, as RECONNECTION.md says.
   * @param {number} code
   * @param {import("./ws-messages").DisconnectNotice | null} notice
   * @returns {{ retry: boolean, minimumDelayMs: number }}
   */
  decide(code, notice) {
    if (TERMINAL_CLOSE_CODES.has(code)) return { retry: false, minimumDelayMs: 0 };
    if (notice) {
      if (notice.reconnect && notice.reconnect.allowed === false) return { retry: false, minimumDelayMs: 0 };
      if (notice.reason === "idle_timeout" && !this.wantsStream()) return { retry: false, minimumDelayMs: 0 };
      const hinted = notice.reconnect?.delay_ms ?? 0;
      const floor = notice.reason === "backpressure" || notice.reason === "server_shutdown" ? Math.max(hinted, this.backoff.baseMs) : hinted;
      return { retry: true, minimumDelayMs: floor };
    }
    return { retry: true, minimumDelayMs: 0 };
  }

  clearTimers() {
    for (const timer of [this.reconnectTimer, this.pingTimer, this.pongTimer, this.connectTimer]) if (timer) this.timers.clearTimeout(timer);
    this.reconnectTimer = this.pingTimer = this.pongTimer = this.connectTimer = null;
  }
}
