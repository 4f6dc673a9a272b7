// The real `fs` plus a small `globSync(pattern, { cwd })` for Node 20 (see register.mjs): it
// answers the paths under `cwd` (relative, `/`-separated) matching `pattern`, where `**`
// matches any number of directories, `*` any characters but `/`, and `?` one. Enough for the
// conformance suite, whose one use is `globSync("**/checks.json", { cwd })`.
import fs from "node:fs";
import path from "node:path";

export * from "node:fs";
export default fs;

function toRegExp(pattern) {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      // `**/` is zero or more whole directories; a trailing `**` anything at all.
      if (pattern[i + 2] === "/") {
        re += "(?:[^/]+/)*";
        i += 2;
      } else {
        re += ".*";
        i += 1;
      }
    } else if (c === "*") {
      re += "[^/]*";
    } else if (c === "?") {
      re += "[^/]";
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${re}$`);
}

export function globSync(pattern, options = {}) {
  const patterns = Array.isArray(pattern) ? pattern : [pattern];
  const matchers = patterns.map(toRegExp);
  const cwd = options.cwd ? String(options.cwd) : process.cwd();
  const found = [];
  const walk = (rel) => {
    let entries;
    try {
      entries = fs.readdirSync(path.join(cwd, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (matchers.some((m) => m.test(p))) found.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk("");
  return found;
}
