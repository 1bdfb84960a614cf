// Type-checked by .ci/check-snippets.sh against Expected.d.ts.golden: the union narrows on its
// constant tags and on the pattern tag, and an exhaustive switch needs no default.
import type { Event, UnknownEvent } from "./Expected";

export function describe(event: Event): string {
  switch (event.type) {
    case "started":
      return `started at ${event.at} by ${event.source}`;
    case "stopped":
      return `stopped${event.at === undefined ? "" : ` at ${event.at.toFixed(0)}`}`;
    default: {
      const progress: `${string}_progress` = event.type;
      return `${progress}: ${event.percent}%`;
    }
  }
}

export function fromNewer(event: UnknownEvent): string {
  return event.type;
}
