// The toolreg admin console: a hash-routed single-page app (#/tools, #/tools/<id>, …), so the
// server serves one page and its hashed assets.
import "./style.css";
import { Problem, get, login, loginMfa, logout, signedIn, whenSignedOut } from "./api";
import { clear, field, h } from "./dom";
import { agentPage, agentsPage, auditPage, decisionsPage, policiesPage, usersPage } from "./admin";
import { catalogPage, registerPage, toolPage } from "./tools";
import { showProblem } from "./ui";

const app = document.getElementById("app") as HTMLElement;
let me: { username?: string; role?: string } = {};

const nav: [string, string][] = [
  ["#/tools", "Catalog"],
  ["#/register", "Register a tool"],
  ["#/agents", "Agents"],
  ["#/users", "Users"],
  ["#/policies", "Policies"],
  ["#/decisions", "Decisions"],
  ["#/audit", "Audit log"],
];

function layout(main: HTMLElement): void {
  const here = location.hash.split("?")[0] || "#/tools";
  clear(
    app,
    h(
      "header",
      { class: "top" },
      h("a", { class: "brand", href: "#/tools" }, "toolreg"),
      h(
        "nav",
        { "aria-label": "Main" },
        h("ul", {}, nav.map(([href, label]) => h("li", {}, h("a", { href, "aria-current": here.startsWith(href) ? "page" : null }, label)))),
      ),
      h(
        "div",
        { class: "who" },
        h("span", {}, `${me.username ?? ""} (${me.role ?? ""})`),
        h("a", { href: "/docs" }, "API docs"),
        h(
          "button",
          {
            type: "button",
            onclick: async () => {
              await logout();
              me = {};
              location.hash = "#/login";
            },
          },
          "Log out",
        ),
      ),
    ),
    main,
  );
}

function loginPage(): HTMLElement {
  const username = h("input", { autocomplete: "username", required: true });
  const password = h("input", { type: "password", autocomplete: "current-password", required: true });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card narrow" });
  const done = () => {
    const back = sessionStorageTarget;
    location.hash = back && back !== "#/login" ? back : "#/tools";
  };
  let mfaToken: string | null = null;
  const code = h("input", { inputmode: "numeric", pattern: "[0-9]{6}", autocomplete: "one-time-code", required: true });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      if (mfaToken !== null) {
        await loginMfa(mfaToken, code.value.trim());
        return done();
      }
      mfaToken = await login(username.value, password.value);
      if (mfaToken === null) return done();
      clear(
        form,
        h("h1", {}, "Two-factor code"),
        h("p", {}, "Enter the 6-digit code from your authenticator app."),
        field("Code", code),
        status,
        h("button", { type: "submit", class: "primary" }, "Verify"),
      );
      code.focus();
    } catch (e) {
      showProblem(status, e);
    }
  });
  form.append(
    h("h1", {}, "Sign in to toolreg"),
    field("Username", username),
    field("Password", password),
    status,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  setTimeout(() => username.focus());
  return h("main", { id: "main", class: "login" }, form);
}

let sessionStorageTarget = "";

async function route(): Promise<void> {
  const hash = location.hash || "#/tools";
  if (!signedIn()) {
    if (hash !== "#/login") sessionStorageTarget = hash;
    clear(app, loginPage());
    document.title = "Sign in — toolreg";
    if (hash !== "#/login") history.replaceState(null, "", "#/login");
    return;
  }
  if (hash === "#/login") {
    location.hash = "#/tools";
    return;
  }
  if (!me.username) {
    try {
      me = (await get<{ username: string; role: string }>("auth/me")).data;
    } catch {
      me = {};
    }
  }
  const [path, query] = hash.slice(1).split("?");
  const params = new URLSearchParams(query ?? "");
  const parts = path.split("/").filter(Boolean);
  const main = h("main", { id: "main", tabindex: "-1" });
  layout(main);
  let title = "toolreg";
  try {
    if (parts[0] === "tools" && parts[1]) title = await toolPage(main, decodeURIComponent(parts[1]));
    else if (parts[0] === "register") title = await registerPage(main);
    else if (parts[0] === "agents" && parts[1]) title = await agentPage(main, decodeURIComponent(parts[1]));
    else if (parts[0] === "agents") title = await agentsPage(main);
    else if (parts[0] === "users") title = await usersPage(main);
    else if (parts[0] === "policies") title = await policiesPage(main);
    else if (parts[0] === "decisions") title = await decisionsPage(main, params);
    else if (parts[0] === "audit") title = await auditPage(main, params);
    else title = await catalogPage(main, params);
  } catch (e) {
    if (e instanceof Problem && e.status === 401) return;
    showProblem(main, e);
  }
  document.title = `${title} — toolreg`;
  main.focus({ preventScroll: true });
}

whenSignedOut(() => {
  me = {};
  location.hash = "#/login";
  void route();
});
window.addEventListener("hashchange", () => void route());
// The skip link moves focus to the page's content without touching the route in the fragment.
document.querySelector(".skip")?.addEventListener("click", (ev) => {
  ev.preventDefault();
  (document.getElementById("main") as HTMLElement | null)?.focus();
});
void route();
