// The console is served by toolreg at /console; its build goes where toolreg-web embeds it.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/console/",
  build: {
    outDir: "../shared/web/assets/console",
    emptyOutDir: true,
    assetsDir: "assets",
    // Everything in files: the CSP allows no inline script or data: scripts.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
  },
  server: {
    // `npm run dev` proxies the API to a running `make dev`.
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
});
