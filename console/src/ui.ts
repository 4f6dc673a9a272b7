// Shared pieces of the pages: the status line, problem display (with 422 pointers put next to
// the fields they name), the elevation prompt and simple paged tables.
import { Problem, elevate, hasElevation } from "./api";
import { Child, clear, field, h } from "./dom";

export function notice(text: string, kind: "ok" | "error" | "info" = "info"): HTMLElement {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export function problemText(e: unknown): string {
  if (e instanceof Problem) return `${e.status} ${e.title}${e.detail ? `: ${e.detail}` : ""}`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Shows a failure in `box`; a 422's errors go next to the field whose pointer they name
 * (`fields` maps a pointer prefix such as "/input_schema" to its control), the rest in a list.
 */
export function showProblem(box: HTMLElement, e: unknown, fields: Record<string, HTMLElement> = {}): void {
  for (const c of Object.values(fields)) {
    const err = document.getElementById(`${c.id}-error`);
    if (err) err.textContent = "";
    c.removeAttribute("aria-invalid");
  }
  const rest: Child[] = [];
  if (e instanceof Problem) {
    for (const fe of e.errors) {
      const key = Object.keys(fields)
        .filter((k) => fe.pointer === k || fe.pointer.startsWith(`${k}/`))
        .sort((a, b) => b.length - a.length)[0];
      const line = `${fe.pointer || "/"}: ${fe.detail}`;
      const control = key ? fields[key] : undefined;
      const err = control ? document.getElementById(`${control.id}-error`) : null;
      if (control && err) {
        err.textContent = err.textContent ? `${err.textContent}\n${line}` : line;
        control.setAttribute("aria-invalid", "true");
      } else {
        rest.push(h("li", {}, h("code", {}, fe.pointer || "/"), " ", fe.detail));
      }
    }
  }
  clear(box, notice(problemText(e), "error"), rest.length ? h("ul", { class: "errors" }, rest) : null);
}

/** Asks for the password (and a TOTP code) and gets a 5-minute elevated token. */
export function withElevation(reason: string): Promise<boolean> {
  if (hasElevation()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const password = h("input", { type: "password", autocomplete: "current-password", required: true });
    const code = h("input", { inputmode: "numeric", pattern: "[0-9]{6}", autocomplete: "one-time-code", placeholder: "123456" });
    const status = h("div", { "aria-live": "polite" });
    const dialog = h("dialog", { class: "modal", "aria-labelledby": "elevate-title" });
    const close = (ok: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    const form = h(
      "form",
      {
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          try {
            await elevate(password.value, code.value.trim() || undefined);
            close(true);
          } catch (e) {
            showProblem(status, e);
          }
        },
      },
      h("h2", { id: "elevate-title" }, "Confirm it is you"),
      h("p", {}, `${reason} needs an elevated session: enter your password again.`),
      field("Password", password),
      field("Authenticator code (if you use one)", code),
      status,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Confirm"), h("button", { type: "button", onclick: () => close(false) }, "Cancel")),
    );
    dialog.append(form);
    dialog.addEventListener("cancel", () => resolve(false));
    document.body.append(dialog);
    dialog.showModal();
    password.focus();
  });
}

export function table(headers: string[], rows: Child[][], caption?: string): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.length ? rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))) : h("tr", {}, h("td", { colspan: headers.length, class: "empty" }, "Nothing here."))),
    ),
  );
}

export function select(options: [string, string][], value = ""): HTMLSelectElement {
  const s = h("select", {}, options.map(([v, label]) => h("option", { value: v }, label)));
  if (value || options.some(([v]) => v === "")) s.value = value;
  return s;
}

export async function copy(text: string, button: HTMLButtonElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed: select the text";
  }
}
