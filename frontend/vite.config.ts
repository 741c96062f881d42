import preact from "@preact/preset-vite";
import { defineConfig } from "vitest/config";

// Django serves frontend/dist at /static/ and resolves entries through
// dist/.vite/manifest.json, keyed by the entry's source path
// ("src/entries/project.ts"). Add one input per page that needs JS.
export default defineConfig({
  plugins: [preact()],
  base: "/static/",
  // The schema editor's tests read the examples of docs/SCHEMA.md (`?raw`): docs/ is the one folder
  // outside frontend/ that Vite may read.
  server: { fs: { allow: [".", "../docs"] } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: true,
    // Vite 8 bundles with Rolldown; `rollupOptions` is a deprecated alias of this.
    rolldownOptions: {
      input: [
        "src/entries/project.ts",
        "src/entries/data.ts",
        "src/entries/schema-editor.ts",
        "src/entries/guidelines.ts",
        "src/entries/label.ts",
        "src/entries/review.ts",
        "src/entries/quality.ts",
        "src/entries/releases.ts",
        "src/entries/item-gold.ts",
      ],
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
