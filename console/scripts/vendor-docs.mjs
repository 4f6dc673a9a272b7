// Copies the API docs bundles from npm packages (swagger-ui-dist, redoc) next to the console
// build, in shared/web/assets/docs/, where toolreg-web embeds them: /docs and /redoc load nothing
// from a CDN at run time.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "..", "node_modules");
const out = join(here, "..", "..", "shared", "web", "assets", "docs");
mkdirSync(out, { recursive: true });

const files = [
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-bundle.js"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui.css"],
  ["redoc/bundles/redoc.standalone.js", "redoc.standalone.js"],
];
for (const [from, to] of files) {
  copyFileSync(join(modules, from), join(out, to));
}
const version = (p) => JSON.parse(readFileSync(join(modules, p, "package.json"), "utf8")).version;
console.log(`vendored swagger-ui-dist ${version("swagger-ui-dist")} and redoc ${version("redoc")} into ${out}`);
