/** Test helper: the `<!-- example: name -->` schemas of docs/SCHEMA.md, as the server's loader reads them. */
import schemaDocs from "../../../docs/SCHEMA.md?raw";

import type { Definition } from "./schema-definition";

export function docsExamples(): Map<string, Definition> {
  const found = new Map<string, Definition>();
  for (const match of schemaDocs.matchAll(/<!-- example: (\w+) -->\n```json\n([\s\S]*?)\n```/g)) {
    found.set(match[1] as string, (JSON.parse(match[2] as string) as { schema: Definition }).schema);
  }
  return found;
}
