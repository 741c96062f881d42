import preact from "@preact/preset-vite";
import { defineConfig } from "vitest/config";

// Django serves frontend/dist at /static/ and resolves entries through
// dist/.vite/manifest.json, keyed by the entry's source path
// ("src/entries/project.ts"). Add one input per page that needs JS.
export default defineConfig({
  plugins: [preact()],
  base: "/static/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: true,
    // Vite 8 bundles with Rolldown; `rollupOptions` is a deprecated alias of this.
    rolldownOptions: {
      input: ["src/entries/project.ts", "src/entries/data.ts"],
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
