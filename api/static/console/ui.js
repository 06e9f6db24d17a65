// What every console page uses: the signed-in person, words in the chosen language, DOM building
// (createElement only, never innerHTML), forms that show the API's problems next to their fields.
import { Problem, api, signedIn } from "/portal/assets/api.js";
import { TEXT } from "./i18n.js";

export const view = document.getElementById("view");
export const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
export const SUPPORT_STAFF = ["support_engineer", "support_lead", "admin"];
export const CUSTOMER_ROLES = ["customer_user", "customer_admin"];
export const state = { lang: "en", me: null, signedOut: () => {} };

export function t(key, values = {}) {
  const text = TEXT[state.lang][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (values[name] ?? ""));
}

export const hasRole = (...roles) => Boolean(state.me && state.me.roles.some((r) => roles.includes(r)));
const locale = () => (state.lang === "ru" ? "ru-RU" : "en-GB");

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function when(iso) {
  if (!iso) return t("common.none");
  const text = new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short", timeZone: zone }).format(new Date(iso));
  return `${text} (${zone})`;
}

export function dayName(date) {
  return new Intl.DateTimeFormat(locale(), { weekday: "long", day: "numeric", month: "long", timeZone: zone }).format(date);
}

export function money(minor, currency) {
  if (minor === null || minor === undefined) return t("common.none");
  return new Intl.NumberFormat(locale(), { style: "currency", currency: currency || "RUB" }).format(minor / 100);
}

let fields = 0;

// A labelled control with a slot for its field error. ``name`` is the field's public path in the API's
// problems (e.g. terms.priorities.P1.first_response_minutes), so its errors land next to it.
export function field(name, label, control, hint) {
  fields += 1; // ids stay unique when two forms of a page have a field of one name
  control.id = control.id || `f-${name.replace(/[^\w-]/g, "-")}-${fields}`;
  control.name = control.name || name;
  const error = h("div", { class: "field-error", id: `${control.id}-error`, "data-error-for": name });
  const hintNode = hint ? h("div", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  control.setAttribute("aria-describedby", [hintNode ? hintNode.id : null, error.id].filter(Boolean).join(" "));
  return h("div", { class: "field" }, h("label", { for: control.id }, label), hintNode, control, error);
}

export function problemBox(problem) {
  if (problem.code === "network") return h("div", { class: "problem", role: "alert" }, t("common.network"));
  return h("div", { class: "problem", role: "alert", "data-code": problem.code, tabindex: "-1" },
    h("strong", {}, problem.body.title || t("common.error")), h("div", {}, problem.body.detail || ""));
}

// The slot for an error: the field it names, else the nearest enclosing field that has a slot
// (terms.calendar for terms.calendar.time_zone), else the last segment (the portal's short names).
function slotFor(form, path) {
  const parts = path.split(".");
  for (let n = parts.length; n > 0; n -= 1) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(parts.slice(0, n).join("."))}"]`);
    if (slot) return slot;
  }
  return form.querySelector(`[data-error-for="${CSS.escape(parts[parts.length - 1])}"]`);
}

// A problem at the top of the form and each field error next to its field; nothing typed is lost.
export function showProblem(form, problem) {
  for (const old of form.querySelectorAll(".problem")) old.remove();
  for (const node of form.querySelectorAll("[data-error-for]")) node.textContent = "";
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  form.prepend(problemBox(problem));
  let first = null;
  for (const error of problem.errors) {
    const slot = slotFor(form, error.field);
    if (!slot) continue;
    slot.textContent = slot.textContent ? `${slot.textContent}; ${error.message}` : error.message;
    const control = form.querySelector(`[name="${CSS.escape(slot.dataset.errorFor)}"]`);
    if (control) { control.setAttribute("aria-invalid", "true"); first = first || control; }
  }
  (first || form.querySelector(".problem")).focus?.();
}

// Run a call with its button busy; a Problem is shown in the form and undefined returned.
export async function busy(form, button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    if (err.status === 401 && !signedIn()) { state.signedOut(t("common.signin_again")); return undefined; }
    showProblem(form, err);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// A form whose submit runs ``work`` (busy, problems shown) and then ``after`` with its result.
export function form(id, children, submitLabel, work, after) {
  const submit = h("button", { type: "submit" }, submitLabel);
  const node = h("form", { class: "card", id, novalidate: true }, children, submit);
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await busy(node, submit, work);
    if (done !== undefined) await after(done);
  });
  return node;
}

export function render(...nodes) {
  view.replaceChildren(...nodes.flat(Infinity).filter((node) => node !== null && node !== undefined && node !== false));
  view.focus();
}

export function notFound() {
  render(h("h1", {}, t("notfound.title")), h("p", {}, t("notfound.text")),
    h("p", {}, h("a", { class: "button", href: "#/" }, t("notfound.home"))));
}

export async function load(work) {
  render(h("p", { class: "loading", role: "status" }, t("common.loading")));
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    if (err.status === 401) { state.signedOut(t("common.signin_again")); return undefined; }
    if (err.status === 404) { notFound(); return undefined; }
    render(problemBox(err));
    return undefined;
  }
}

// A wide table scrolls sideways inside a region keyboard users can focus and scroll.
export function scrollable(name) {
  return { tabindex: "0", role: "region", "aria-label": name || t("common.table") };
}

// A table with column headers; rows are built by the caller.
export function table(id, headerKeys, rows, caption) {
  return h("div", { class: "table-wrap", ...scrollable(caption) }, h("table", { id },
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, headerKeys.map((k) => h("th", { scope: "col" }, k ? t(k) : "")))),
    h("tbody", {}, rows)));
}

export function input(type, attrs = {}) {
  return h("input", { type, ...attrs });
}

export function select(options, chosen) {
  return h("select", {}, options.map(([value, label]) => h("option", { value, selected: String(chosen ?? "") === String(value) ? true : null }, label)));
}

// A problem shown above the page's content without replacing it (for buttons outside forms).
export function alertProblem(err) {
  if (!(err instanceof Problem)) throw err;
  for (const old of view.querySelectorAll(":scope > .problem")) old.remove();
  const box = problemBox(err);
  view.prepend(box);
  box.focus();
}

// Download text from the API (a CSV, say) as a file.
export function download(text, filename, type) {
  const link = h("a", { href: URL.createObjectURL(new Blob([text], { type })), download: filename });
  document.body.append(link);
  link.click();
  link.remove();
}

// "Show more" under a list the API pages with cursors: each click reads the next page of ``path``
// and hands its items to ``append``.
export function more(path, cursor, append) {
  const slot = h("div", { class: "more" });
  const show = (next) => slot.replaceChildren(next ? h("button", { type: "button", class: "secondary", onclick: async () => {
    try {
      const page = await api.get(`${path}${path.includes("?") ? "&" : "?"}cursor=${encodeURIComponent(next)}`);
      append(page.items);
      show(page.next_cursor);
    } catch (err) { alertProblem(err); }
  } }, t("queue.more")) : "");
  show(cursor);
  return slot;
}
