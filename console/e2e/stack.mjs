// Starts `make dev`'s stack (scripts/dev.sh: DynamoDB Local, moto, target/debug/local) on free
// ports, and a real MCP server from tests/mcp/serve.py, for the browser tests.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdirSync, openSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

const children = [];

export function stopAll() {
  for (const c of children.reverse()) {
    try {
      process.kill(-c.pid, "SIGTERM"); // its whole process group
    } catch {
      /* gone */
    }
  }
}

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error(`${url} did not answer within ${ms / 1000} s (see .stack/e2e-dev.log)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startStack() {
  mkdirSync(join(ROOT, ".stack"), { recursive: true });
  const port = await freePort();
  const log = openSync(join(ROOT, ".stack", "e2e-dev.log"), "w");
  const dev = spawn("scripts/dev.sh", [], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", log, log],
    env: {
      ...process.env,
      PORT: String(port),
      // One browser logs in and elevates several times from one address.
      LOGIN_RATE_LIMIT_IP: "1000/minute",
      PROBE_RATE_LIMIT_USER: "1000/minute",
      PROBE_RATE_LIMIT_IP: "1000/minute",
      RUST_LOG: "warn",
    },
  });
  children.push(dev);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/health`, 120_000);
  return base;
}

export function startMcp(kind = "streamable-json") {
  return new Promise((resolve, reject) => {
    const p = spawn(join(ROOT, ".venv", "bin", "python"), [join(ROOT, "tests", "mcp", "serve.py"), kind, "--port", "0"], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", openSync(join(ROOT, ".stack", "e2e-mcp.log"), "w")],
    });
    children.push(p);
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the MCP server did not start: ${out}`)), 30_000);
    p.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/LISTENING (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    p.on("exit", (code) => reject(new Error(`the MCP server exited (${code}): ${out}`)));
  });
}
