// Preload for Node.js releases whose `fs` lacks `globSync` (added in Node 22): the MCP
// conformance suite (@modelcontextprotocol/conformance 0.1.16) imports it by name from its ES
// module, which fails to link on Node 20. Run it unmodified with
//   node --import ./scripts/node-globsync/register.mjs .npm-tools/node_modules/@modelcontextprotocol/conformance/dist/index.js ...
// A named export cannot be added to the built-in module itself (syncBuiltinESMExports only
// refreshes existing names), so a resolve hook hands importers of `fs` a module that
// re-exports every name of the real one plus `globSync`. On a Node that has it, nothing is
// registered.
import fs from "node:fs";
import { register } from "node:module";

if (typeof fs.globSync !== "function") {
  register("./hooks.mjs", import.meta.url);
}
