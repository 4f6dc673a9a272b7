// The catalog, a tool's page (probe history, drift, edit with If-Match, lifecycle, delete with
// elevation) and registering a function or remote tool.
import { Problem, call, get } from "./api";
import { Child, badge, clear, field, fmtTime, h } from "./dom";
import { notice, problemText, select, showProblem, table, withElevation } from "./ui";

export interface Probe {
  id: string;
  probed_at: string;
  status: "passed" | "failed";
  protocol_version?: string | null;
  requires_auth: boolean;
  response_time_ms: number;
  error?: string | null;
  tool_count?: number | null;
  server_name?: string | null;
  detected_transport?: string | null;
}

export interface Tool {
  id: string;
  tool_type: "function" | "remote";
  name: string;
  display_name: string;
  description: string;
  risk_level: string;
  is_active: boolean;
  tags?: string[];
  version: number;
  updated_at: string;
  input_schema?: unknown;
  server_url?: string;
  transport_preference?: string;
  static_header_names?: string[];
  requires_per_user_auth?: boolean;
  probe?: Probe | null;
  drifted?: boolean;
  tool_drift?: { detected_at: string; added: string[]; removed: string[]; changed: string[]; partial: boolean } | null;
}

interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

const RISKS: [string, string][] = [["low", "low"], ["medium", "medium"], ["high", "high"], ["critical", "critical"]];

function probeStatus(t: Tool): string {
  if (t.tool_type !== "remote") return "n/a";
  if (!t.probe) return "never";
  return t.probe.status;
}

export function toolBadges(t: Tool): Child[] {
  const out: Child[] = [badge(t.tool_type, "neutral"), badge(`risk ${t.risk_level}`, t.risk_level === "critical" || t.risk_level === "high" ? "warn" : "neutral")];
  out.push(t.is_active ? badge("active", "ok") : badge("inactive", "muted"));
  if (t.tool_type === "remote") {
    const s = probeStatus(t);
    out.push(badge(`probe ${s}`, s === "passed" ? "ok" : s === "failed" ? "bad" : "muted"));
    if (t.probe?.protocol_version) out.push(badge(t.probe.protocol_version, "neutral", "MCP protocol revision"));
    if (t.probe?.requires_auth || t.requires_per_user_auth) out.push(badge("auth required", "warn"));
    if (t.drifted) out.push(badge("drifted", "bad"));
  }
  return out;
}

export async function catalogPage(main: HTMLElement, params: URLSearchParams): Promise<string> {
  const q = h("input", { type: "search", value: params.get("q") ?? "" });
  const type = select([["", "any"], ["function", "function"], ["remote", "remote"]], params.get("tool_type") ?? "");
  const risk = select([["", "any"], ...RISKS], params.get("risk_level") ?? "");
  const active = select([["", "any"], ["true", "active"], ["false", "inactive"]], params.get("is_active") ?? "");
  const tag = h("input", { value: params.get("tag") ?? "" });
  const probe = select([["", "any"], ["passed", "passed"], ["failed", "failed"], ["never", "never probed"]], params.get("probe") ?? "");
  const drifted = select([["", "any"], ["true", "drifted"], ["false", "not drifted"]], params.get("drifted") ?? "");
  const results = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const p = new URLSearchParams();
        const set = (k: string, v: string) => v && p.set(k, v);
        set("q", q.value.trim());
        set("tool_type", type.value);
        set("risk_level", risk.value);
        set("is_active", active.value);
        set("tag", tag.value.trim());
        set("probe", probe.value);
        set("drifted", drifted.value);
        location.hash = `#/tools?${p}`;
      },
    },
    field("Search", q),
    field("Type", type),
    field("Risk", risk),
    field("Active", active),
    field("Tag", tag),
    field("Probe status", probe),
    field("Drift", drifted),
    h("div", { class: "field" }, h("button", { type: "submit", class: "primary" }, "Filter")),
  );
  clear(main, h("div", { class: "page-head" }, h("h1", {}, "Catalog"), h("a", { class: "button primary", href: "#/register" }, "Register a tool")), form, results);

  const api = new URLSearchParams({ limit: "50" });
  for (const k of ["q", "tool_type", "risk_level", "is_active", "tag", "drifted"]) {
    const v = params.get(k);
    if (v) api.set(k, v);
  }
  let cursor: string | null = null;
  const rows: Child[][] = [];
  const render = () =>
    clear(
      results,
      table(
        ["Tool", "Description", "Status", "Updated"],
        rows,
        "Tools in the catalog",
      ),
      cursor ? h("button", { type: "button", onclick: more }, "Load more") : null,
    );
  async function more(): Promise<void> {
    if (cursor) api.set("cursor", cursor);
    const page = (await get<Page<Tool>>(`tools?${api}`)).data;
    const want = params.get("probe");
    for (const t of page.items.filter((t) => !want || probeStatus(t) === want)) {
      rows.push([
        h("a", { href: `#/tools/${encodeURIComponent(t.id)}` }, t.display_name || t.name, h("br"), h("code", {}, t.name)),
        t.description,
        h("div", { class: "badges" }, toolBadges(t)),
        fmtTime(t.updated_at),
      ]);
    }
    cursor = page.next_cursor;
    render();
  }
  await more();
  return "Catalog";
}

function schemaEditor(value: unknown): HTMLTextAreaElement {
  return h("textarea", { class: "code", rows: 12, spellcheck: "false", value: JSON.stringify(value ?? { type: "object", properties: {} }, null, 2) });
}

/** Parses the schema editor's text, marking it invalid when it is not JSON. */
function parseJson(area: HTMLTextAreaElement): unknown {
  const err = document.getElementById(`${area.id}-error`);
  try {
    const v = JSON.parse(area.value);
    area.removeAttribute("aria-invalid");
    if (err) err.textContent = "";
    return v;
  } catch (e) {
    area.setAttribute("aria-invalid", "true");
    if (err) err.textContent = `Not valid JSON: ${(e as Error).message}`;
    throw new Problem(400, "Not valid JSON", (e as Error).message, "");
  }
}

const tagsOf = (s: string): string[] => s.split(",").map((t) => t.trim()).filter(Boolean);

export async function registerPage(main: HTMLElement): Promise<string> {
  const kind = select([["function", "Function tool (JSON Schema)"], ["remote", "Remote tool (MCP server)"]]);
  const name = h("input", { required: true, pattern: "[A-Za-z][A-Za-z0-9_]*", autocomplete: "off" });
  const display = h("input", {});
  const description = h("textarea", { rows: 3 });
  const risk = select(RISKS, "low");
  const tags = h("input", { placeholder: "comma, separated" });
  const schema = schemaEditor({ type: "object", properties: { query: { type: "string" } }, required: ["query"] });
  const url = h("input", { type: "url", placeholder: "https://mcp.example.com/mcp" });
  const transport = select([["auto", "auto"], ["streamable_http", "streamable HTTP"], ["sse", "SSE"]], "auto");
  const perUser = h("input", { type: "checkbox" });
  const status = h("div", { "aria-live": "polite" });
  const testResult = h("div", { "aria-live": "polite", class: "test-result" });
  const fnBox = h("fieldset", {}, h("legend", {}, "Input schema"), field("JSON Schema of the tool's input", schema, "The server checks it against its meta-schema; problems appear here."));
  const remoteBox = h(
    "fieldset",
    {},
    h("legend", {}, "MCP server"),
    field("Server URL", url),
    field("Transport", transport),
    h("div", { class: "field checkbox" }, perUser, h("label", { for: (perUser.id = "per-user") }, "Requires per-user auth")),
    h(
      "button",
      {
        type: "button",
        onclick: async () => {
          clear(testResult, notice("Testing…"));
          try {
            const r = await call<Probe>("POST", "tools/remote/test-connection", { body: { server_url: url.value.trim(), transport_preference: transport.value } });
            const p = r.data;
            clear(
              testResult,
              notice(
                p.status === "passed"
                  ? `Connection OK: ${p.server_name ?? "server"} speaks MCP ${p.protocol_version ?? "?"}, ${p.tool_count ?? 0} tools, ${p.response_time_ms} ms`
                  : `Connection failed: ${p.error ?? "unknown error"}`,
                p.status === "passed" ? "ok" : "error",
              ),
            );
          } catch (e) {
            showProblem(testResult, e, { "/server_url": url });
          }
        },
      },
      "Test connection",
    ),
    testResult,
  );
  const sync = () => {
    fnBox.hidden = kind.value !== "function";
    remoteBox.hidden = kind.value !== "remote";
  };
  kind.addEventListener("change", sync);
  sync();
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const body: Record<string, unknown> = { tool_type: kind.value, name: name.value.trim(), risk_level: risk.value };
        if (display.value.trim()) body.display_name = display.value.trim();
        if (description.value.trim()) body.description = description.value.trim();
        if (tags.value.trim()) body.tags = tagsOf(tags.value);
        try {
          if (kind.value === "function") body.input_schema = parseJson(schema);
          else {
            body.server_url = url.value.trim();
            body.transport_preference = transport.value;
            if (perUser.checked) body.requires_per_user_auth = true;
          }
          const r = await call<Tool>("POST", "tools", { body });
          location.hash = `#/tools/${encodeURIComponent(r.data.id)}`;
        } catch (e) {
          showProblem(status, e, { "/input_schema": schema, "/name": name, "/server_url": url, "/tags": tags, "/description": description, "/display_name": display });
        }
      },
    },
    field("Kind", kind),
    field("Name", name, "Letters, digits and _; starts with a letter."),
    field("Display name", display),
    field("Description", description),
    field("Risk level", risk),
    field("Tags", tags),
    fnBox,
    remoteBox,
    status,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save tool")),
  );
  clear(main, h("h1", {}, "Register a tool"), form);
  return "Register a tool";
}

function probeTimeline(probes: Probe[]): HTMLElement {
  if (!probes.length) return h("p", {}, "No probes yet.");
  return h(
    "ol",
    { class: "timeline" },
    probes.map((p) =>
      h(
        "li",
        { class: `probe-${p.status}` },
        h("time", { datetime: p.probed_at }, fmtTime(p.probed_at)),
        " ",
        badge(p.status, p.status === "passed" ? "ok" : "bad"),
        " ",
        p.protocol_version ? `MCP ${p.protocol_version}, ` : "",
        `${p.response_time_ms} ms`,
        p.tool_count != null ? `, ${p.tool_count} tools` : "",
        p.requires_auth ? ", requires auth" : "",
        p.error ? h("div", { class: "probe-error" }, p.error) : null,
      ),
    ),
  );
}

export async function toolPage(main: HTMLElement, id: string): Promise<string> {
  const r = await get<Tool>(`tools/${encodeURIComponent(id)}`);
  let t = r.data;
  let etag = r.etag;
  const status = h("div", { "aria-live": "polite" });
  const reload = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const act = async (what: string, f: () => Promise<unknown>) => {
    try {
      await f();
      reload();
    } catch (e) {
      showProblem(status, e);
      void what;
    }
  };

  const details: Child[] = [
    h("dl", { class: "facts" }, [
      h("dt", {}, "Name"), h("dd", {}, h("code", {}, t.name)),
      h("dt", {}, "Id"), h("dd", {}, h("code", {}, t.id)),
      h("dt", {}, "Description"), h("dd", {}, t.description || "—"),
      h("dt", {}, "Tags"), h("dd", {}, (t.tags ?? []).join(", ") || "—"),
      h("dt", {}, "Version"), h("dd", {}, String(t.version)),
      h("dt", {}, "Updated"), h("dd", {}, fmtTime(t.updated_at)),
      t.tool_type === "remote" ? [h("dt", {}, "Server"), h("dd", {}, h("code", {}, t.server_url ?? ""), ` (${t.transport_preference ?? "auto"})`)] : null,
      t.static_header_names?.length ? [h("dt", {}, "Stored headers"), h("dd", {}, t.static_header_names.join(", "))] : null,
    ]),
  ];
  if (t.tool_type === "function") details.push(h("h2", {}, "Input schema"), h("pre", { class: "code", tabindex: "0" }, JSON.stringify(t.input_schema, null, 2)));

  const drift: Child[] = [];
  if (t.drifted && t.tool_drift) {
    const d = t.tool_drift;
    drift.push(
      h(
        "section",
        { class: "card drift", "aria-labelledby": "drift-title" },
        h("h2", { id: "drift-title" }, "Tool list drifted"),
        h("p", {}, `Detected ${fmtTime(d.detected_at)}${d.partial ? " (partial comparison)" : ""}.`),
        h("ul", { class: "diff" }, d.added.map((n) => h("li", { class: "added" }, "+ ", n)), d.removed.map((n) => h("li", { class: "removed" }, "− ", n)), d.changed.map((n) => h("li", { class: "changed" }, "~ ", n))),
        h("button", { type: "button", class: "primary", onclick: () => act("approve", () => call("POST", `tools/${t.id}/approve-tools`, { ifMatch: etag })) }, "Approve tools"),
      ),
    );
  }

  const actions = h(
    "div",
    { class: "actions" },
    t.is_active
      ? h("button", { type: "button", onclick: () => act("deactivate", () => call("POST", `tools/${t.id}/deactivate`)) }, "Deactivate")
      : h("button", { type: "button", onclick: () => act("activate", () => call("POST", `tools/${t.id}/activate`)) }, "Activate"),
    t.tool_type === "remote" ? h("button", { type: "button", onclick: () => act("reprobe", () => call("POST", `tools/${t.id}/reprobe`)) }, "Probe now") : null,
    h("button", { type: "button", onclick: () => ((editBox.hidden = !editBox.hidden), editBox.hidden || editName.focus()) }, "Edit"),
    h(
      "button",
      {
        type: "button",
        class: "danger",
        onclick: async () => {
          if (!confirm(`Delete ${t.name}? This cannot be undone.`)) return;
          if (!(await withElevation("Deleting a tool"))) return;
          try {
            await call("DELETE", `tools/${t.id}`, { elevated: true });
            location.hash = "#/tools";
          } catch (e) {
            showProblem(status, e);
          }
        },
      },
      "Delete",
    ),
  );

  // Edit, sending the ETag the page was read with: a concurrent change answers 412.
  const editName = h("input", { value: t.display_name });
  const editDesc = h("textarea", { rows: 3, value: t.description });
  const editRisk = select(RISKS, t.risk_level);
  const editTags = h("input", { value: (t.tags ?? []).join(", ") });
  const editSchema = schemaEditor(t.input_schema);
  const editStatus = h("div", { "aria-live": "polite" });
  const editBox = h(
    "form",
    {
      class: "card",
      hidden: true,
      "aria-label": "Edit tool",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const body: Record<string, unknown> = { display_name: editName.value, description: editDesc.value, risk_level: editRisk.value, tags: tagsOf(editTags.value) };
        try {
          if (t.tool_type === "function") body.input_schema = parseJson(editSchema);
          const u = await call<Tool>("PATCH", `tools/${t.id}`, { body, ifMatch: etag });
          t = u.data;
          etag = u.etag;
          reload();
        } catch (e) {
          if (e instanceof Problem && e.status === 412) {
            clear(
              editStatus,
              notice("Someone else changed this tool since you opened it (412). Your edits are kept here; reload to see theirs, then apply yours again.", "error"),
              h("button", { type: "button", onclick: reload }, "Reload the tool"),
            );
          } else showProblem(editStatus, e, { "/input_schema": editSchema, "/display_name": editName, "/tags": editTags, "/description": editDesc });
        }
      },
    },
    h("h2", {}, "Edit"),
    field("Display name", editName),
    field("Description", editDesc),
    field("Risk level", editRisk),
    field("Tags", editTags),
    t.tool_type === "function" ? field("Input schema", editSchema) : null,
    editStatus,
    h("button", { type: "submit", class: "primary" }, "Save changes"),
  );

  const history = h("section", { "aria-labelledby": "probes-title" }, h("h2", { id: "probes-title" }, "Probe history"));
  clear(
    main,
    h("p", {}, h("a", { href: "#/tools" }, "← Catalog")),
    h("div", { class: "page-head" }, h("h1", {}, t.display_name || t.name), h("div", { class: "badges" }, toolBadges(t))),
    status,
    actions,
    editBox,
    drift,
    details,
    t.tool_type === "remote" ? history : null,
  );
  if (t.tool_type === "remote") {
    try {
      const probes = (await get<Page<Probe>>(`tools/${t.id}/probes?limit=20`)).data.items;
      history.append(probeTimeline(probes));
    } catch (e) {
      history.append(notice(problemText(e), "error"));
    }
  }
  return t.display_name || t.name;
}
