/**
 * Types of the reference client in ws-client.mjs. See RECONNECTION.md.
 */
import type {
  ClientMessage,
  DataType,
  DisconnectNotice,
  RecoveryFailure,
  ServerMessage,
  Subscription,
  UnknownServerMessage,
} from "./ws-messages";

export type ClientState = "idle" | "connecting" | "open" | "waiting" | "reconnecting" | "stopped";

export interface BackoffOptions {
  /** First retry's ceiling in milliseconds. @default 1000 */
  baseMs?: number;
  /** @default 2 */
  factor?: number;
  /** @default 30000 */
  capMs?: number;
}

/** Where a client stands in the event history: what a reconnect recovers from. */
export interface StreamPositions {
  epoch: string | null;
  /** The offset of the last event received, per topic. */
  offsets: Partial<Record<Subscription, number>>;
}

export interface HiveOpsClientOptions {
  /** e.g. `wss://ops.example.com/api/dashboard/ws/dashboard?access_token=...` */
  url: string;
  /** Topics to hold; re-subscribed after every reconnect. */
  subscriptions?: Subscription[];
  /** Positions saved from an earlier client (`positions()`): the first connect recovers from them. */
  resume?: StreamPositions;
  /** Asked after an `idle_timeout` notice: reconnect only when it returns true. @default () => true */
  wantsStream?: () => boolean;
  backoff?: BackoffOptions;
  /** @default 15000 */
  pingIntervalMs?: number;
  /** Silence after a ping longer than this closes the connection and reconnects. @default 10000 */
  pongTimeoutMs?: number;
  /** An attempt with no `connection_established` within this closes and counts as failed. @default 10000 */
  connectTimeoutMs?: number;
  /** After a failed handshake: the HTTP status of the URL (a 401 or 403 stops the client). Defaults to a fetch GET. */
  probeRefusal?: (url: string) => Promise<number | null> | number | null;
  /** Injected for tests; defaults to the global WebSocket. */
  WebSocket?: unknown;
  timers?: { setTimeout(callback: () => void, ms: number): unknown; clearTimeout(handle: unknown): void };
  random?: () => number;
  now?: () => number;
}

export interface ClosedEvent {
  code: number;
  reason: string;
  notice: DisconnectNotice | null;
}

export interface ClientEvents {
  state: ClientState;
  open: undefined;
  /** Every frame this contract knows; frames of a newer contract go to `unknown-frame` instead. */
  message: ServerMessage;
  /** A frame whose `type` no `ServerMessage` member has (from a newer server), as sent. */
  "unknown-frame": UnknownServerMessage;
  notice: DisconnectNotice;
  closed: ClosedEvent;
  retry: { attempt: number; delayMs: number };
  reconnected: { gapMs: number; resubscribed: Subscription[] };
  "gave-up": ClosedEvent;
  "version-mismatch": { server: string; client: string };
  "heartbeat-timeout": undefined;
  /** After a connect or a subscribe that asked to recover: which topics got every missed event. */
  recovery: { recovered: Subscription[]; lost: { topic: Subscription; reason: RecoveryFailure | "unknown" }[] };
  /** Topics whose missed events are gone: `requested` snapshots were asked for; refetch the others. */
  resync: { topics: Subscription[]; requested: DataType[] };
}

type FrameEvents = { [T in ServerMessage["type"]]: Extract<ServerMessage, { type: T }> };

export declare const CLIENT_CONTRACT_VERSION: "1.2.0";
export declare const SNAPSHOT_DATA_TYPES: Partial<Record<Subscription, DataType>>;
export declare const TERMINAL_CLOSE_CODES: Set<number>;
export declare function backoffDelay(
  attempt: number,
  options?: BackoffOptions & { random?: () => number }
): number;

export declare class HiveOpsClient {
  constructor(options: HiveOpsClientOptions);
  readonly state: ClientState;
  readonly topics: Set<Subscription>;
  /** Whether each topic's last recovery replayed every missed event. */
  readonly recovered: Map<Subscription, boolean>;
  /** Where the client stands: save it to resume after a reload. */
  positions(): StreamPositions;
  on<E extends keyof ClientEvents>(event: E, handler: (payload: ClientEvents[E]) => void): () => void;
  on<T extends keyof FrameEvents>(event: T, handler: (message: FrameEvents[T]) => void): () => void;
  on(event: `${string}_update`, handler: (message: Extract<ServerMessage, { type: `${string}_update` }>) => void): () => void;
  start(): void;
  stop(): void;
  send(message: ClientMessage): boolean;
  subscribe(topics: Subscription[]): void;
  unsubscribe(topics: Subscription[]): void;
}
