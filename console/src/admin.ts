// Agents and their keys, users, policies (versions, editor, simulation, activation), decisions
// and the audit log.
import { call, get } from "./api";
import { Child, badge, clear, field, fmtTime, h } from "./dom";
import { copy, notice, select, showProblem, table, withElevation } from "./ui";

interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

const reload = () => window.dispatchEvent(new HashChangeEvent("hashchange"));

/** A list with filters and Previous/Next paging by cursor, kept in the URL fragment. */
async function pagedList<T>(opts: {
  main: HTMLElement;
  title: string;
  base: string;
  endpoint: string;
  params: URLSearchParams;
  filters: [string, string, HTMLInputElement | HTMLSelectElement][];
  headers: string[];
  row: (item: T) => Child[];
}): Promise<void> {
  const { main, params } = opts;
  for (const [key, , control] of opts.filters) control.value = params.get(key) ?? "";
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const p = new URLSearchParams();
        for (const [key, , control] of opts.filters) if (control.value.trim()) p.set(key, control.value.trim());
        location.hash = `${opts.base}?${p}`;
      },
    },
    opts.filters.map(([, label, control]) => field(label, control)),
    h("div", { class: "field" }, h("button", { type: "submit", class: "primary" }, "Filter")),
  );
  const api = new URLSearchParams({ limit: params.get("limit") ?? "25" });
  for (const [key] of opts.filters) if (params.get(key)) api.set(key, params.get(key) as string);
  if (params.get("cursor")) api.set("cursor", params.get("cursor") as string);
  const page = (await get<Page<T>>(`${opts.endpoint}?${api}`)).data;
  const nav = (cursor: string | null, back: string[]) => {
    const p = new URLSearchParams(params);
    p.delete("cursor");
    p.delete("back");
    if (cursor) p.set("cursor", cursor);
    if (back.length) p.set("back", back.join(","));
    return `${opts.base}?${p}`;
  };
  const back = (params.get("back") ?? "").split(",").filter(Boolean);
  const here = params.get("cursor") ?? "";
  const pager = h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    params.get("cursor") ? h("a", { class: "button", href: nav(back.at(-1) === "-" ? null : (back.at(-1) ?? null), back.slice(0, -1)) }, "← Previous") : null,
    page.next_cursor ? h("a", { class: "button", href: nav(page.next_cursor, [...back, here || "-"]) }, "Next →") : null,
  );
  clear(main, h("h1", {}, opts.title), form, table(opts.headers, page.items.map(opts.row), opts.title), pager);
}

// ---- agents

interface Agent {
  id: string;
  name: string;
  description: string;
  owner_user_id: string;
  groups: string[];
  tags: string[];
  disabled: boolean;
  active_keys: number;
  created_at: string;
}

interface ApiKey {
  id: string;
  prefix: string;
  status: string;
  description?: string | null;
  created_at: string;
  expires_at?: string | null;
  last_used_at?: string | null;
  key?: string;
}

const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);

export async function agentsPage(main: HTMLElement): Promise<string> {
  const name = h("input", { required: true, pattern: "[a-z0-9][a-z0-9._-]*", autocomplete: "off" });
  const description = h("input", {});
  const groups = h("input", { placeholder: "comma, separated" });
  const tags = h("input", { placeholder: "comma, separated" });
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    {
      class: "card",
      "aria-labelledby": "new-agent",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        try {
          const r = await call<Agent>("POST", "agents", { body: { name: name.value.trim(), description: description.value, groups: list(groups.value), tags: list(tags.value) } });
          location.hash = `#/agents/${encodeURIComponent(r.data.id)}`;
        } catch (e) {
          showProblem(status, e, { "/name": name, "/groups": groups, "/tags": tags, "/description": description });
        }
      },
    },
    h("h2", { id: "new-agent" }, "New agent"),
    h("div", { class: "row" }, field("Name", name, "Lower case, unique"), field("Description", description), field("Groups", groups), field("Tags", tags)),
    status,
    h("button", { type: "submit", class: "primary" }, "Create agent"),
  );
  const page = (await get<Page<Agent>>("agents?limit=100")).data;
  clear(
    main,
    h("h1", {}, "Agents"),
    form,
    table(
      ["Agent", "Groups", "Tags", "Keys", "State", "Created"],
      page.items.map((a) => [
        h("a", { href: `#/agents/${encodeURIComponent(a.id)}` }, a.name),
        a.groups.join(", "),
        a.tags.join(", "),
        String(a.active_keys),
        a.disabled ? badge("disabled", "muted") : badge("enabled", "ok"),
        fmtTime(a.created_at),
      ]),
      "Agents",
    ),
  );
  return "Agents";
}

export async function agentPage(main: HTMLElement, id: string): Promise<string> {
  const a = (await get<Agent>(`agents/${encodeURIComponent(id)}`)).data;
  const keys = (await get<Page<ApiKey>>(`agents/${encodeURIComponent(id)}/keys?limit=100`)).data.items;
  const status = h("div", { "aria-live": "polite" });
  const secretBox = h("div", { "aria-live": "polite" });
  const keyDesc = h("input", {});
  const newKey = h(
    "form",
    {
      class: "card",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        try {
          const k = (await call<ApiKey>("POST", `agents/${a.id}/keys`, { body: keyDesc.value.trim() ? { description: keyDesc.value.trim() } : {} })).data;
          const secret = h("input", { readonly: true, value: k.key ?? "", class: "secret", "aria-label": "The new API key" });
          const button = h("button", { type: "button", class: "primary" }, "Copy key") as HTMLButtonElement;
          button.addEventListener("click", () => void copy(k.key ?? "", button));
          clear(
            secretBox,
            h(
              "div",
              { class: "card secret-card" },
              h("h2", {}, "New API key"),
              h("p", {}, h("strong", {}, "Copy it now: it is shown this once and never again.")),
              h("div", { class: "copy-row" }, secret, button),
              h("button", { type: "button", onclick: reload }, "Done"),
            ),
          );
          secret.select();
        } catch (e) {
          showProblem(status, e);
        }
      },
    },
    h("h2", {}, "New key"),
    field("Description", keyDesc),
    h("button", { type: "submit", class: "primary" }, "Create key"),
  );
  const toggle = a.disabled
    ? h("button", { type: "button", onclick: () => call("POST", `agents/${a.id}/enable`).then(reload, (e) => showProblem(status, e)) }, "Enable agent")
    : h("button", { type: "button", onclick: () => call("POST", `agents/${a.id}/disable`).then(reload, (e) => showProblem(status, e)) }, "Disable agent");
  clear(
    main,
    h("p", {}, h("a", { href: "#/agents" }, "← Agents")),
    h("div", { class: "page-head" }, h("h1", {}, a.name), a.disabled ? badge("disabled", "muted") : badge("enabled", "ok")),
    h("dl", { class: "facts" }, h("dt", {}, "Id"), h("dd", {}, h("code", {}, a.id)), h("dt", {}, "Description"), h("dd", {}, a.description || "—"), h("dt", {}, "Groups"), h("dd", {}, a.groups.join(", ") || "—"), h("dt", {}, "Tags"), h("dd", {}, a.tags.join(", ") || "—")),
    status,
    h("div", { class: "actions" }, toggle),
    secretBox,
    newKey,
    h("h2", {}, "Keys"),
    table(
      ["Prefix", "Description", "Status", "Created", "Expires", "Last used", ""],
      keys.map((k) => [
        h("code", {}, k.prefix),
        k.description ?? "",
        badge(k.status, k.status === "active" ? "ok" : "muted"),
        fmtTime(k.created_at),
        fmtTime(k.expires_at),
        fmtTime(k.last_used_at),
        k.status === "active"
          ? h("button", { type: "button", class: "danger", onclick: () => confirm(`Revoke key ${k.prefix}?`) && call("DELETE", `agents/${a.id}/keys/${k.id}`).then(reload, (e) => showProblem(status, e)) }, "Revoke")
          : "",
      ]),
      "API keys",
    ),
  );
  return a.name;
}

// ---- users

interface User {
  id: string;
  username: string;
  display_name: string;
  role: string;
  disabled: boolean;
  created_at: string;
}

export async function usersPage(main: HTMLElement): Promise<string> {
  const username = h("input", { required: true, autocomplete: "off" });
  const display = h("input", {});
  const role = select([["user", "user"], ["admin", "admin"]], "user");
  const password = h("input", { type: "password", required: true, autocomplete: "new-password" });
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        try {
          await call("POST", "users", { body: { username: username.value.trim(), display_name: display.value.trim() || username.value.trim(), role: role.value, password: password.value } });
          reload();
        } catch (e) {
          showProblem(status, e, { "/username": username, "/password": password, "/display_name": display });
        }
      },
    },
    h("h2", {}, "New user"),
    h("div", { class: "row" }, field("Username", username), field("Display name", display), field("Role", role), field("Password", password)),
    status,
    h("button", { type: "submit", class: "primary" }, "Create user"),
  );
  const users = (await get<Page<User>>("users?limit=100")).data.items;
  clear(
    main,
    h("h1", {}, "Users"),
    form,
    table(
      ["Username", "Display name", "Role", "State", "Created", ""],
      users.map((u) => [
        u.username,
        u.display_name,
        u.role,
        u.disabled ? badge("disabled", "muted") : badge("enabled", "ok"),
        fmtTime(u.created_at),
        h("button", { type: "button", onclick: () => call("POST", `users/${u.id}/${u.disabled ? "enable" : "disable"}`).then(reload, (e) => showProblem(status, e)) }, u.disabled ? "Enable" : "Disable"),
      ]),
      "Users",
    ),
  );
  return "Users";
}

// ---- policies

interface PolicyVersion {
  version: number;
  sha256: string;
  rules: number;
  active: boolean;
  warnings: { pointer: string; message: string }[];
  created_at: string;
  created_by: string;
  created?: boolean;
  document?: unknown;
}

interface Verdict {
  decision: string;
  rationale: string;
  rule_id?: string | null;
}

interface Simulation {
  replayed: number;
  allow: number;
  deny: number;
  flipped: number;
  flips: { decision_id: string; timestamp: string; principal_id: string; tool_name?: string; tool_id: string; before: Verdict; after: Verdict }[];
}

const STARTER = { default: "deny", rules: [{ id: "agents-read-low-risk", effect: "allow", rationale: "LOW_RISK_FOR_AGENTS", principal: { kind: "agent" }, tool: { risk_level: { max: "low" } } }] };

export async function policiesPage(main: HTMLElement): Promise<string> {
  const page = (await get<Page<PolicyVersion> & { active_version: number }>("policies?limit=50")).data;
  const latest = page.items[0];
  let start: unknown = STARTER;
  if (latest) start = (await get<PolicyVersion>(`policies/${latest.version}`)).data.document ?? STARTER;
  let refreshVersions = async (): Promise<void> => {};
  const editor = h("textarea", { class: "code", rows: 18, spellcheck: "false", value: JSON.stringify(start, null, 2) });
  const status = h("div", { "aria-live": "polite" });
  const sim = h("div", { "aria-live": "polite" });
  const parsed = (): unknown | undefined => {
    const err = document.getElementById(`${editor.id}-error`);
    try {
      const v = JSON.parse(editor.value);
      if (err) err.textContent = "";
      editor.removeAttribute("aria-invalid");
      return v;
    } catch (e) {
      editor.setAttribute("aria-invalid", "true");
      if (err) err.textContent = `Not valid JSON: ${(e as Error).message}`;
      return undefined;
    }
  };
  editor.addEventListener("input", () => void parsed());
  const activate = async (version: number) => {
    if (!(await withElevation(`Activating policy version ${version}`))) return;
    try {
      await call("POST", `policies/${version}/activate`, { elevated: true });
      reload();
    } catch (e) {
      showProblem(status, e);
    }
  };
  const editorField = field("Policy document (JSON)", editor, "Rules are tried in order; the first that matches decides.");
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const doc = parsed();
        if (doc === undefined) return;
        try {
          const v = (await call<PolicyVersion>("POST", "policies", { body: doc })).data;
          void refreshVersions();
          clear(
            status,
            notice(`${v.created ? "Saved as" : "Already stored as"} version ${v.version} (${v.rules} rules).`, "ok"),
            v.warnings.length ? h("ul", { class: "errors" }, v.warnings.map((w) => h("li", {}, h("code", {}, w.pointer), " ", w.message))) : null,
            h("button", { type: "button", class: "primary", onclick: () => activate(v.version) }, `Activate version ${v.version}`),
          );
        } catch (e) {
          showProblem(status, e, { "": editor });
        }
      },
    },
    editorField,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Save as new version"),
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            const doc = parsed();
            if (doc === undefined) return;
            clear(sim, notice("Simulating…"));
            try {
              const s = (await call<Simulation>("POST", "policies/simulate", { body: { document: doc } })).data;
              clear(
                sim,
                h("h2", {}, "Simulation"),
                h("p", { class: "sim-summary" }, `Replayed ${s.replayed} recorded decisions: ${s.allow} allow, ${s.deny} deny, ${s.flipped} would flip.`),
                table(
                  ["When", "Principal", "Tool", "Before", "After"],
                  s.flips.map((f) => [fmtTime(f.timestamp), f.principal_id, f.tool_name ?? f.tool_id, `${f.before.decision} (${f.before.rationale})`, `${f.after.decision} (${f.after.rationale})`]),
                  "Decisions that would flip",
                ),
              );
            } catch (e) {
              showProblem(sim, e, { "/document": editor });
            }
          },
        },
        "Simulate",
      ),
    ),
    status,
  );
  const versions = h("section", { "aria-labelledby": "versions-title" });
  const activeLine = h("p", {});
  const showVersions = (p: Page<PolicyVersion> & { active_version: number }) => {
    activeLine.textContent = p.active_version ? `Active version: ${p.active_version}.` : "No version is active: every access request is denied.";
    clear(
      versions,
      h("h2", { id: "versions-title" }, "Versions"),
      table(
        ["Version", "Rules", "SHA-256", "Created", "By", ""],
        p.items.map((v) => [
          String(v.version),
          String(v.rules),
          h("code", {}, v.sha256.slice(0, 12)),
          fmtTime(v.created_at),
          v.created_by,
          v.active ? badge("active", "ok") : h("button", { type: "button", onclick: () => activate(v.version) }, `Activate v${v.version}`),
        ]),
        "Policy versions",
      ),
    );
  };
  refreshVersions = async () => showVersions((await get<Page<PolicyVersion> & { active_version: number }>("policies?limit=50")).data);
  showVersions(page);
  clear(main, h("h1", {}, "Policies"), activeLine, form, sim, versions);
  return "Policies";
}

// ---- decisions and audit

interface Decision {
  id: string;
  timestamp: string;
  principal_id: string;
  principal_name?: string;
  tool_id: string;
  tool_name?: string;
  decision: string;
  rationale: string;
  policy_version?: number;
}

export async function decisionsPage(main: HTMLElement, params: URLSearchParams): Promise<string> {
  await pagedList<Decision>({
    main,
    params,
    title: "Decisions",
    base: "#/decisions",
    endpoint: "decisions",
    filters: [
      ["principal_id", "Principal id", h("input", {})],
      ["tool_id", "Tool id", h("input", {})],
      ["decision", "Decision", select([["", "any"], ["allow", "allow"], ["deny", "deny"]])],
    ],
    headers: ["When", "Principal", "Tool", "Decision", "Rationale", "Policy"],
    row: (d) => [fmtTime(d.timestamp), d.principal_name ?? d.principal_id, d.tool_name ?? d.tool_id, badge(d.decision, d.decision === "allow" ? "ok" : "bad"), d.rationale, d.policy_version ? `v${d.policy_version}` : "—"],
  });
  return "Decisions";
}

interface AuditEvent {
  id: string;
  timestamp: string;
  action: string;
  outcome: string;
  actor_user_id?: string | null;
  actor_username?: string | null;
  target_type?: string | null;
  target_id?: string | null;
  details?: unknown;
}

export async function auditPage(main: HTMLElement, params: URLSearchParams): Promise<string> {
  await pagedList<AuditEvent>({
    main,
    params,
    title: "Audit log",
    base: "#/audit",
    endpoint: "audit-events",
    filters: [
      ["action", "Action", h("input", { placeholder: "tool.create" })],
      ["actor_user_id", "Actor id", h("input", {})],
      ["target_id", "Target id", h("input", {})],
      ["outcome", "Outcome", select([["", "any"], ["success", "success"], ["failure", "failure"]])],
    ],
    headers: ["When", "Action", "Outcome", "Actor", "Target", "Details"],
    row: (e) => [
      fmtTime(e.timestamp),
      h("code", {}, e.action),
      badge(e.outcome, e.outcome === "success" ? "ok" : "bad"),
      e.actor_username ?? e.actor_user_id ?? "—",
      e.target_id ? `${e.target_type ?? ""} ${e.target_id}` : "—",
      e.details ? h("details", {}, h("summary", {}, "details"), h("pre", { class: "code" }, JSON.stringify(e.details, null, 2))) : "",
    ],
  });
  return "Audit log";
}
