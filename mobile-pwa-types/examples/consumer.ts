// A PWA-style consumer of ws-messages.d.ts: `tsc --strict --noEmit` must accept it,
// which proves the union narrows on `type` the way application code relies on.
import type { ClientMessage, ServerMessage, Subscription, UpdateMessage } from "../ws-messages";

export function describe(message: ServerMessage): string {
  switch (message.type) {
    case "connection_established":
      return `connected as ${message.connection_id} to ${message.subscriptions.join(", ")} (contract ${message.contract_version})`;
    case "dashboard_initialized":
      return `dashboard ${message.connection_info.client_type}, snapshot of ${Object.keys(message.snapshot ?? {}).length} types`;
    case "subscription_updated":
      return `now on ${message.subscriptions.join(", ")}`;
    case "pong":
      return `pong at ${message.timestamp}`;
    case "error":
      return `error ${message.code ?? "unknown"}: ${message.message}${message.retry_after_ms !== undefined ? `, retry in ${message.retry_after_ms} ms` : ""}`;
    case "data_response":
      return `data for ${message.data_type}`;
    case "data_error":
      return `no data for ${message.data_type}: ${message.error}`;
    case "disconnect_notice":
      return `disconnected (${message.reason})${message.reconnect?.allowed === false ? ", do not reconnect" : ""}`;
    case "critical_alert":
      return `${message.data.alerts.length} critical alert(s) on ${message.subscription}`;
    case "system_event":
    case "agent_event":
    case "project_index_event":
      return `${message.type} on ${message.subscription}`;
    default:
      return describeUpdate(message);
  }
}

function describeUpdate(message: UpdateMessage): string {
  const kind: `${string}_update` = message.type;
  return `${kind} on ${message.subscription} with ${Object.keys(message.data).length} fields`;
}

export function subscribe(topics: Subscription[], correlationId?: string): ClientMessage {
  return { type: "subscribe", subscriptions: topics, correlation_id: correlationId };
}

export const ping: ClientMessage = { type: "ping", timestamp: new Date().toISOString(), client_time: Date.now() };

// Forward compatibility: a newer server may send a frame of a type this contract does not know.
// The generated guard tells it apart first; after it, the union narrows on `type` as above, and
// the other branch is the unknown frame, typed as such.
import type { ErrorCode, UnknownServerMessage } from "../ws-messages";
import { isErrorCode, isServerMessage } from "../ws-message-guards";

export function receive(frame: ServerMessage | UnknownServerMessage): string {
  if (!isServerMessage(frame)) {
    const unknown: UnknownServerMessage = frame;
    return `skipped a ${unknown.type} frame from a newer contract`;
  }
  return describe(frame);
}

export function errorLabel(code: string): string {
  if (isErrorCode(code)) {
    const known: ErrorCode = code;
    return `known error ${known}`;
  }
  return `error ${code} (newer than this client)`;
}
