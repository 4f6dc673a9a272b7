// The console's end-to-end test: Debian's Chromium, driven by playwright-core, against the
// stack `make dev` runs (started here on free ports) and a real MCP server. Each step asserts
// what the page shows; screenshots of every page go to docs/console/. Exit code 1 on any failure.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHmac } from "node:crypto";
import { chromium } from "playwright-core";
import { ROOT, startMcp, startStack, stopAll } from "./stack.mjs";

const SHOTS = join(ROOT, "docs", "console");
const ADMIN = { username: "admin", password: "local-admin-password" };
const CHROMIUM = process.env.CHROMIUM ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
const run = `${Date.now().toString(36)}`;

/** An RFC 6238 code (SHA-1, 6 digits, 30 s) for a base32 secret, `ahead` steps from now. */
function totp(secret, ahead = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + ahead));
  const mac = createHmac("sha1", key).update(counter).digest();
  const at = mac[19] & 0xf;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

let passed = 0;
let failed = 0;
async function step(name, f) {
  const t = Date.now();
  try {
    await f();
    passed += 1;
    console.log(`ok   ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}\n${e.stack ?? e}`);
    throw e;
  }
}

async function main() {
  assert.ok(CHROMIUM, "no Chromium: `make chromium` installs Debian's");
  mkdirSync(SHOTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), "toolreg-e2e-"));
  let context;
  try {
    const base = await startStack();
    const mcpUrl = await startMcp("streamable-json");
    // A fresh profile each run; Debian's Chromium, never a downloaded browser.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      baseURL: base,
      viewport: { width: 1280, height: 900 },
    });
    await steps(context, base, mcpUrl);
  } finally {
    await context?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
    stopAll();
  }
}

async function steps(context, base, mcpUrl) {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) pageErrors.push(m.text());
  });
  page.on("dialog", (d) => void d.accept()); // confirm() before deletes
  // Console pages whole; the (long) docs pages as the first screen.
  const shot = (name, p = page) => p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: !p.url().includes("/docs") && !p.url().includes("/redoc") });
  const api = async (method, path, token, body) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, body: r.status === 204 ? null : await r.json() };
  };
  const fnName = `lookup_${run}`;
  const remoteName = `mcp_${run}`;
  const agentName = `e2e-agent-${run}`;
  let fnId = "";
  let agentKey = "";

  {
    await step("the console answers with its security headers", async () => {
      const r = await fetch(`${base}/console`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get("content-security-policy"), /script-src 'self';/);
      assert.equal(r.headers.get("x-frame-options"), "DENY");
    });

    await step("log in", async () => {
      await page.goto("/console");
      await page.getByRole("heading", { name: "Sign in to toolreg" }).waitFor();
      await page.getByLabel("Username").fill(ADMIN.username);
      await page.getByLabel("Password").fill("wrong-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").filter({ hasText: "401" }).waitFor();
      await shot("login");
      await page.getByLabel("Password").fill(ADMIN.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Catalog" }).waitFor();
      assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0, "tokens stay in memory");
    });

    await step("create a function tool with a schema error, then fix it", async () => {
      await page.getByRole("link", { name: "Register a tool" }).first().click();
      await page.getByRole("heading", { name: "Register a tool" }).waitFor();
      await page.getByLabel("Name", { exact: true }).fill(fnName);
      await page.getByLabel("Display name").fill("Lookup (e2e)");
      await page.getByLabel("Description").fill("Looks things up");
      await page.getByLabel("Tags").fill("e2e, search");
      const schema = page.getByLabel("JSON Schema of the tool's input");
      await schema.fill(JSON.stringify({ type: "object", properties: { query: { type: 12 } } }, null, 2));
      await page.getByRole("button", { name: "Save tool" }).click();
      // The server's 422 pointer appears under the schema editor.
      const err = page.locator(`#${await schema.getAttribute("id")}-error`);
      await err.filter({ hasText: "/input_schema" }).waitFor();
      assert.equal(await schema.getAttribute("aria-invalid"), "true");
      await shot("register-schema-error");
      await schema.fill(JSON.stringify({ type: "object", properties: { query: { type: "string" } }, required: ["query"] }, null, 2));
      await page.getByRole("button", { name: "Save tool" }).click();
      await page.getByRole("heading", { name: "Lookup (e2e)" }).waitFor();
      fnId = decodeURIComponent(page.url().split("#/tools/")[1]);
      assert.ok(fnId);
      await page.getByText('"query"').first().waitFor();
      await shot("tool-function");
    });

    await step("edit a tool: a stale If-Match is a 412 the page explains", async () => {
      await page.getByRole("button", { name: "Edit" }).click();
      // Someone else changes the tool meanwhile.
      const token = (await (await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ADMIN) })).json()).access_token;
      const other = await fetch(`${base}/api/v1/tools/${fnId}`, { method: "PATCH", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ description: "changed elsewhere" }) });
      assert.equal(other.status, 200);
      await page.getByLabel("Edit tool").getByLabel("Description").fill("edited in the console");
      await page.getByRole("button", { name: "Save changes" }).click();
      await page.getByText("Someone else changed this tool").waitFor();
      await page.getByRole("button", { name: "Reload the tool" }).click();
      await page.getByText("changed elsewhere").waitFor();
      await page.getByRole("button", { name: "Edit" }).click();
      await page.getByLabel("Edit tool").getByLabel("Description").fill("edited in the console");
      await page.getByRole("button", { name: "Save changes" }).click();
      await page.getByText("edited in the console").first().waitFor();
    });

    await step("register a remote tool after testing the connection", async () => {
      await page.goto("/console#/register");
      await page.getByLabel("Kind").selectOption("remote");
      await page.getByLabel("Name", { exact: true }).fill(remoteName);
      await page.getByLabel("Server URL").fill(mcpUrl);
      await page.getByRole("button", { name: "Test connection" }).click();
      await page.getByText("Connection OK").waitFor();
      await shot("register-remote");
      await page.getByRole("button", { name: "Save tool" }).click();
      await page.getByRole("heading", { name: "Probe history" }).waitFor();
      await page.locator(".badges").getByText("probe passed").waitFor();
      await page.locator(".timeline li").first().waitFor();
      await shot("tool-remote");
    });

    await step("the catalog lists both, with filters", async () => {
      await page.goto("/console#/tools");
      await page.getByRole("link", { name: /Lookup \(e2e\)/ }).waitFor();
      await page.getByRole("link", { name: new RegExp(remoteName) }).waitFor();
      await shot("catalog");
      await page.getByLabel("Type").selectOption("remote");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.getByRole("link", { name: new RegExp(remoteName) }).waitFor();
      assert.equal(await page.getByRole("link", { name: /Lookup \(e2e\)/ }).count(), 0);
    });

    await step("create an agent and copy its key", async () => {
      await page.goto("/console#/agents");
      await page.getByRole("heading", { name: "Agents", exact: true }).waitFor();
      await page.getByLabel("Name").fill(agentName);
      await page.getByLabel("Groups").fill("e2e");
      await page.getByRole("button", { name: "Create agent" }).click();
      await page.getByRole("heading", { name: agentName }).waitFor();
      await page.getByRole("button", { name: "Create key" }).click();
      const secret = page.getByLabel("The new API key");
      await secret.waitFor();
      agentKey = await secret.inputValue();
      assert.match(agentKey, /^trk_/);
      await page.getByRole("button", { name: "Copy key" }).click();
      await page.getByRole("button", { name: "Copied" }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), agentKey);
      const me = await api("GET", "/api/v1/auth/me", agentKey);
      assert.equal(me.status, 200);
      assert.equal(me.body.kind, "agent");
      await shot("agent-key");
      // Shown once: after "Done" only the prefix is listed.
      await page.getByRole("button", { name: "Done" }).click();
      await page.getByRole("table", { name: "API keys" }).waitFor();
      assert.equal(await page.getByText(agentKey).count(), 0);
      // The agent asks for the tool and is denied (no active policy): a decision to simulate.
      const d = await api("POST", `/api/v1/tools/${fnId}/access`, agentKey, { scopes: [] });
      assert.equal(d.status, 403);
    });

    await step("users", async () => {
      await page.goto("/console#/users");
      await page.getByRole("cell", { name: "admin", exact: true }).first().waitFor();
      await shot("users");
    });

    await step("write and simulate a policy", async () => {
      await page.goto("/console#/policies");
      await page.getByRole("heading", { name: "Policies" }).waitFor();
      const editor = page.getByLabel("Policy document (JSON)");
      await editor.fill("{ not json");
      await page.getByText("Not valid JSON").waitFor();
      const doc = { default: "deny", rules: [{ id: "e2e-agents", effect: "allow", rationale: "E2E_AGENTS", principal: { kind: "agent", groups: ["e2e"] } }] };
      await editor.fill(JSON.stringify(doc, null, 2));
      await page.getByRole("button", { name: "Simulate" }).click();
      await page.getByText(/Replayed \d+ recorded decisions/).waitFor();
      const summary = await page.locator(".sim-summary").textContent();
      assert.match(summary, /[1-9]\d* would flip/, summary);
      await page.getByRole("table", { name: "Decisions that would flip" }).getByText(/allow \(E2E_AGENTS\)/).first().waitFor();
      await page.getByRole("button", { name: "Save as new version" }).click();
      await page.getByText(/Saved as version \d+/).waitFor();
      await page.getByRole("table", { name: "Policy versions" }).getByRole("button", { name: /Activate v\d+/ }).waitFor();
      await shot("policies");
    });

    await step("delete a tool with elevation", async () => {
      await page.goto(`/console#/tools/${encodeURIComponent(fnId)}`);
      await page.getByRole("button", { name: "Delete" }).click();
      const dialog = page.getByRole("dialog");
      await dialog.getByRole("heading", { name: "Confirm it is you" }).waitFor();
      await dialog.getByLabel("Password").fill(ADMIN.password);
      await shot("delete-elevation");
      await dialog.getByRole("button", { name: "Confirm" }).click();
      await page.getByRole("heading", { name: "Catalog" }).waitFor();
      assert.equal(await page.getByRole("link", { name: /Lookup \(e2e\)/ }).count(), 0);
    });

    await step("activate the policy (elevated)", async () => {
      await page.goto("/console#/policies");
      await page.getByRole("button", { name: /Activate v\d+/ }).first().click();
      await page.getByText(/Active version: \d+/).waitFor();
      await page.getByRole("table", { name: "Policy versions" }).getByText("active", { exact: true }).waitFor();
    });

    await step("decisions", async () => {
      await page.goto("/console#/decisions");
      await page.getByRole("table", { name: "Decisions" }).getByText("deny").first().waitFor();
      await shot("decisions");
    });

    await step("find each action in the audit log", async () => {
      await page.goto("/console#/audit");
      await page.getByRole("heading", { name: "Audit log" }).waitFor();
      await shot("audit");
      for (const action of ["tool.create", "tool.update", "tool.remote.test_connection", "agent.create", "agent.key.create", "policy.create", "auth.elevate", "tool.delete", "policy.activate"]) {
        await page.getByLabel("Action").fill(action);
        await page.getByRole("button", { name: "Filter" }).click();
        const table = page.getByRole("table", { name: "Audit log" });
        await table.getByRole("cell", { name: action, exact: true }).first().waitFor();
      }
      // Paging: a page of one event leads to the next and back.
      await page.goto("/console#/audit?limit=1");
      await page.getByRole("link", { name: "Next →" }).click();
      await page.getByRole("link", { name: "← Previous" }).waitFor();
    });

    await step("usable at phone width, by keyboard", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto("/console#/tools");
      await page.getByRole("heading", { name: "Catalog" }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px`);
      await shot("catalog-phone");
      await page.setViewportSize({ width: 1280, height: 900 });
      // The skip link, first in the page, shows when focused and moves focus to the content.
      await page.locator(".skip").focus();
      assert.ok((await page.locator(".skip").boundingBox()).x >= 0, "the focused skip link is on screen");
      await page.keyboard.press("Enter");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "main");
      // Filter the catalog by keyboard alone.
      await page.getByLabel("Search").focus();
      await page.keyboard.type("mcp_");
      await page.keyboard.press("Enter");
      await page.waitForURL(/q=mcp_/);
      await page.getByRole("table", { name: "Tools in the catalog" }).getByRole("link").first().waitFor();
    });

    await step("Swagger UI: Authorize with a bearer token and try a call", async () => {
      const docs = await context.newPage();
      docs.on("pageerror", (e) => pageErrors.push(`docs: ${e}`));
      const token = (await (await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ADMIN) })).json()).access_token;
      await docs.goto("/docs");
      await docs.getByRole("button", { name: /Authorize/ }).first().click();
      const bearer = docs.locator(".modal-ux .auth-container").filter({ hasText: "(http, Bearer)" });
      await bearer.locator("#auth-bearer-value").fill(token);
      await bearer.getByRole("button", { name: "Apply credentials" }).click();
      await bearer.getByText("Authorized", { exact: true }).waitFor(); // Swagger UI took the token
      await docs.locator(".modal-ux .close-modal").click();
      const op = docs.locator("#operations-auth-auth-me");
      await op.locator(".opblock-summary").first().click();
      await op.getByRole("button", { name: "Execute" }).click();
      await op.locator(".live-responses-table .response-col_status").filter({ hasText: "200" }).first().waitFor();
      await op.getByText('"username"').first().waitFor();
      await shot("docs-swagger", docs);
      await docs.goto("/redoc");
      await docs.locator("#redoc").getByText("toolreg", { exact: false }).first().waitFor();
      await docs.getByText("/api/v1/tools").first().waitFor();
      await shot("docs-redoc", docs);
      await docs.close();
    });

    await step("log in with the TOTP step", async () => {
      const admin = (await (await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ADMIN) })).json()).access_token;
      const user = { username: `e2e_mfa_${run}`, password: "e2e-mfa-password-1" };
      assert.equal((await api("POST", "/api/v1/users", admin, { ...user, role: "admin", display_name: "MFA admin" })).status, 201);
      const own = (await (await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(user) })).json()).access_token;
      const enrol = await api("POST", "/api/v1/auth/mfa/totp", own, { current_password: user.password });
      assert.equal(enrol.status, 200);
      assert.equal((await api("POST", "/api/v1/auth/mfa/totp/confirm", own, { code: totp(enrol.body.secret) })).status, 200);
      const p = await context.newPage(); // a new page: nothing carried over from the other
      await p.goto("/console");
      await p.getByLabel("Username").fill(user.username);
      await p.getByLabel("Password").fill(user.password);
      await p.getByRole("button", { name: "Sign in" }).click();
      await p.getByRole("heading", { name: "Two-factor code" }).waitFor();
      await p.getByLabel("Code").fill("000000");
      await p.getByRole("button", { name: "Verify" }).click();
      await p.getByRole("alert").filter({ hasText: /40[01]|422/ }).waitFor();
      await shot("login-mfa", p);
      // The code accepted at confirmation cannot be replayed: the next step's code (one step of
      // drift is allowed) signs in.
      await p.getByLabel("Code").fill(totp(enrol.body.secret, 1));
      await p.getByRole("button", { name: "Verify" }).click();
      await p.getByRole("heading", { name: "Catalog" }).waitFor();
      await p.getByText(`${user.username} (admin)`).waitFor();
      await p.close();
    });

    await step("log out revokes the session", async () => {
      await page.goto("/console#/tools");
      await page.getByRole("button", { name: "Log out" }).click();
      await page.getByRole("heading", { name: "Sign in to toolreg" }).waitFor();
      await page.goto("/console#/audit");
      await page.getByRole("heading", { name: "Sign in to toolreg" }).waitFor();
      // The server revoked the session family (audited as auth.logout).
      const admin = (await (await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ADMIN) })).json()).access_token;
      const events = await api("GET", "/api/v1/audit-events?action=auth.logout", admin);
      assert.equal(events.status, 200);
      assert.ok(events.body.items.length >= 1, "no auth.logout event");
    });

    await step("no script errors or CSP violations", async () => {
      assert.deepEqual(pageErrors, []);
    });
  }
}

main()
  .catch((e) => {
    if (!failed) console.log(`FAIL setting up\n${e.stack ?? e}`);
    failed = Math.max(failed, 1);
  })
  .finally(() => {
    console.log(`e2e: ${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
