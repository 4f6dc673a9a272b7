// A tiny DOM builder: h("button", {class: "x", onclick: f}, "text", child).
type Attrs = Record<string, unknown>;
export type Child = Node | string | number | null | undefined | false | Child[];

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...kids: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      e.addEventListener(k.slice(2), v as EventListener);
    } else if (k === "value" && "value" in e) {
      (e as HTMLInputElement).value = String(v);
    } else if (k === "checked" && "checked" in e) {
      (e as HTMLInputElement).checked = Boolean(v);
    } else {
      e.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(e, kids);
  return e;
}

export function append(parent: Node, kids: Child[]): void {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) append(parent, k);
    else parent.appendChild(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

export function clear(e: Element, ...kids: Child[]): void {
  e.replaceChildren();
  append(e, kids);
}

let seq = 0;
export const uid = (p: string): string => `${p}-${++seq}`;

/** A labelled form field; `control` gets the id the label points at. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || uid("f");
  control.id = id;
  const err = h("p", { class: "field-error", id: `${id}-error`, role: "alert" });
  control.setAttribute("aria-describedby", `${id}-error`);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint" }, hint) : null, err);
}

export function badge(text: string, kind = "neutral", title?: string): HTMLElement {
  return h("span", { class: `badge badge-${kind}`, title }, text);
}

export function fmtTime(s?: string | null): string {
  if (!s) return "—";
  const d = new Date(s);
  return isNaN(d.getTime()) ? s : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}
