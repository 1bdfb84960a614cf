// Type-checked by .ci/check-snippets.sh against Expected.d.ts.golden: the tag a const narrowed
// inside allOf still narrows the union, in either order of the allOf members.
import type { Shape } from "./Expected";

export function area(shape: Shape): string {
  switch (shape.kind) {
    case "circle": {
      const color: "red" | "green" | undefined = shape.color;
      return `circle ${shape.id} ${color ?? ""} ${shape.origin?.y ?? 0}`;
    }
    case "square": {
      const color: "blue" | undefined = shape.color;
      return `square ${shape.id} ${color ?? ""}`;
    }
  }
}
