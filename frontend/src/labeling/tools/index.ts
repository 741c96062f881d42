import { registerMediaTools } from "./media";
import { registerTextTools } from "./text";

let registered = false;

export function registerAllTools(): void {
  if (registered) return;
  registered = true;
  registerTextTools();
  registerMediaTools();
}
