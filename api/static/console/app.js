// The Deskline staff console: a dependency-free client of the public /v1 API, like the customer
// portal (whose request module and sign-in it shares). Hash routes, DOM built with createElement
// (never innerHTML), problems shown next to the field they name. The API is the judge of every role:
// the console only leaves out what a role could not do anyway.
import { api, Problem, restoreSession, setLanguage, signIn, signOut, signedIn } from "/portal/assets/api.js";
import { TEXT } from "./i18n.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const SUPPORT_STAFF = ["support_engineer", "support_lead", "admin"];
const CUSTOMER_ROLES = ["customer_user", "customer_admin"];
let lang = chooseLanguage();
let me = null;
let watcher = null; // the queue's EventSource (or its polling fallback) while the queue is shown

// ---- language ---------------------------------------------------------------------------------
function chooseLanguage() {
  const chosen = localStorage.getItem("deskline.lang"); // a preference, never a credential
  if (chosen === "ru" || chosen === "en") return chosen;
  return (navigator.languages || [navigator.language || "en"]).some((l) => l.toLowerCase().startsWith("ru")) ? "ru" : "en";
}

function t(key, values = {}) {
  const text = TEXT[lang][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (values[name] ?? ""));
}

function applyLanguage() {
  document.documentElement.lang = lang;
  setLanguage(lang);
  nav.setAttribute("aria-label", t("nav.label"));
  document.querySelector(".lang")?.setAttribute("aria-label", t("lang.label"));
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
}

for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => {
    lang = button.dataset.lang;
    localStorage.setItem("deskline.lang", lang);
    route();
  });
}

// ---- small helpers ----------------------------------------------------------------------------
function h(tag, attrs = {}, ...children) {
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

function when(iso) {
  if (!iso) return t("common.none");
  const text = new Intl.DateTimeFormat(lang === "ru" ? "ru-RU" : "en-GB", {
    dateStyle: "medium", timeStyle: "short", timeZone: zone,
  }).format(new Date(iso));
  return `${text} (${zone})`;
}

function field(name, label, control) {
  control.id = control.id || `f-${name}`;
  control.name = control.name || name;
  const error = h("div", { class: "field-error", id: `${control.id}-error`, "data-error-for": name });
  control.setAttribute("aria-describedby", error.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, error);
}

function problemBox(problem) {
  if (problem.code === "network") return h("div", { class: "problem", role: "alert" }, t("common.network"));
  return h("div", { class: "problem", role: "alert", "data-code": problem.code, tabindex: "-1" },
    h("strong", {}, problem.body.title || t("common.error")), h("div", {}, problem.body.detail || ""));
}

// A problem at the top of the form and each field error next to its field; nothing typed is lost.
function showProblem(form, problem) {
  for (const old of form.querySelectorAll(".problem")) old.remove();
  for (const node of form.querySelectorAll("[data-error-for]")) node.textContent = "";
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  form.prepend(problemBox(problem));
  let first = null;
  for (const error of problem.errors) {
    const name = error.field.split(".").pop();
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (!slot) continue;
    slot.textContent = error.message;
    const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (control) { control.setAttribute("aria-invalid", "true"); first = first || control; }
  }
  (first || form.querySelector(".problem")).focus?.();
}

async function busy(form, button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    if (err.status === 401 && !signedIn()) { renderSignIn(t("common.signin_again")); return undefined; }
    showProblem(form, err);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

function render(...nodes) {
  view.replaceChildren(...nodes.flat(Infinity).filter((node) => node !== null && node !== undefined && node !== false));
  view.focus();
}

function notFound() {
  render(h("h1", {}, t("notfound.title")), h("p", {}, t("notfound.text")),
    h("p", {}, h("a", { class: "button", href: "#/" }, t("notfound.home"))));
}

async function load(work) {
  render(h("p", { class: "loading", role: "status" }, t("common.loading")));
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    if (err.status === 401) { renderSignIn(t("common.signin_again")); return undefined; }
    if (err.status === 404) { notFound(); return undefined; }
    render(problemBox(err));
    return undefined;
  }
}

const hasRole = (...roles) => Boolean(me && me.roles.some((r) => roles.includes(r)));

function renderNav() {
  const links = [];
  if (hasRole(...SUPPORT_STAFF)) links.push(["#/", "nav.queue"]);
  if (hasRole("admin")) links.push(["#/integrations", "nav.integrations"]);
  const here = (location.hash || "#/").split("/")[1] || "";
  nav.replaceChildren(
    ...(me ? links.map(([href, key]) => h("a", { href, "aria-current": href.split("/")[1] === here ? "page" : null }, t(key))) : []),
    ...(me ? [h("a", { href: "#/signout", id: "sign-out" }, t("nav.signout"))] : []),
  );
}

// ---- sign in ----------------------------------------------------------------------------------
function renderSignIn(message) {
  me = null;
  renderNav();
  const email = h("input", { type: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit" }, t("signin.submit"));
  const form = h("form", { class: "card", novalidate: true },
    message ? h("div", { class: "notice", role: "status" }, message) : null,
    field("email", t("signin.email"), email), field("password", t("signin.password"), password), submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await busy(form, submit, async () => { await signIn(email.value, password.value); return true; });
    if (done) { me = await api.get("/v1/me"); route(); }
  });
  render(h("h1", {}, t("signin.title")), form);
  email.focus();
}

function notStaff() {
  render(h("h1", {}, t("notstaff.title")), h("p", {}, t("notstaff.text")),
    h("p", {}, h("a", { class: "button", href: "/portal" }, t("notstaff.portal"))));
}

// ---- timers -----------------------------------------------------------------------------------
// One line per timer, saying its state in words (not colour alone).
function timerLine(timer) {
  const name = t(`timer.${timer.name}`);
  if (timer.breached) return h("li", { class: "timer-breached" }, t("timer.breached", { name, minutes: timer.breach_minutes }));
  if (timer.stopped_at) return h("li", { class: "timer-met" }, t("timer.met", { name }));
  if (timer.paused) return h("li", { class: "timer-paused" }, t("timer.paused", { name }));
  if (timer.due_at) return h("li", {}, t("timer.due", { name, when: when(timer.due_at) }));
  return h("li", { class: "timer-paused" }, t("timer.not_started", { name }));
}

// A ticket page's timers in the queue's shape, from each line's own clock.
function timersOf(ticket, line) {
  const paused = ticket.status === "awaiting_customer";
  if (line === "sla") {
    return ["first_response", "update", "resolution"].map((name) => {
      const c = ticket.clock[name];
      return { name, due_at: c.due_at, stopped_at: c.stopped_at, breached: c.breached, breach_minutes: c.breach_minutes,
        paused: paused && !c.stopped_at && Boolean(c.started_at) && name !== "first_response" };
    });
  }
  const c = ticket.clock;
  const timers = [{ name: "first_response", due_at: c.first_response_due_at, stopped_at: c.first_responded_at,
    breached: c.breached, breach_minutes: 0, paused: paused && !c.first_responded_at }];
  if (c.first_responded_at) timers.push({ name: "update", due_at: paused ? null : c.next_update_due_at, stopped_at: null,
    breached: c.update_overdue, breach_minutes: 0, paused });
  return timers;
}

// ---- queue ------------------------------------------------------------------------------------
const filters = { line: "", priority: "", organization_id: "", assigned_to_me: false, breached: false };

function queueQuery(cursor) {
  const query = new URLSearchParams({ limit: "50" });
  for (const [name, value] of Object.entries(filters)) {
    if (value === true) query.set(name, "true");
    else if (value) query.set(name, value);
  }
  if (cursor) query.set("cursor", cursor);
  return `/v1/queue?${query}`;
}

function ticketHref(item) {
  return item.line === "sla" ? `#/tickets/sla/${item.contract_id}/${item.id}` : `#/tickets/basic/${item.id}`;
}

function queueRows(items) {
  return items.map((item) => h("tr", { "data-ticket": item.id },
    h("th", { scope: "row" }, h("a", { href: ticketHref(item) }, item.number)),
    h("td", {}, item.subject),
    h("td", {}, item.organization_name),
    h("td", {}, item.priority || t("common.none")),
    h("td", {}, h("span", { class: "status" }, t(`status.${item.status}`))),
    h("td", {}, item.next_due_at ? when(item.next_due_at) : t("common.none")),
    h("td", {}, h("ul", { class: "timers" }, item.timers.map(timerLine))),
    h("td", {}, item.missing.length ? item.missing.join(", ") : t("common.none")),
    h("td", {}, item.assignee_name || (item.assignee_id ? item.assignee_id : h("button", {
      type: "button", class: "secondary", "data-take": item.id, "aria-label": t("queue.take", { number: item.number }),
      onclick: async (event) => {
        event.target.disabled = true;
        try { await api.put(`/v1/queue/${item.id}/assignee`, { assignee_id: me.id }); } catch (err) {
          if (!(err instanceof Problem)) throw err;
          view.prepend(problemBox(err));
        }
        await refreshQueue();
      } }, t("queue.take", { number: "" }).trim()))),
  ));
}

async function refreshQueue() {
  const table = document.getElementById("queue-body");
  const status = document.getElementById("queue-updated");
  if (!table) return;
  try {
    const page = await api.get(queueQuery());
    table.replaceChildren(...queueRows(page.items));
    document.getElementById("queue-empty").hidden = page.items.length > 0;
    status.textContent = t("queue.updated", { time: new Date().toLocaleTimeString(lang === "ru" ? "ru-RU" : "en-GB") });
    moreButton(page.next_cursor);
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    status.textContent = err.body.detail || t("common.error");
  }
}

function moreButton(cursor) {
  const slot = document.getElementById("queue-more");
  slot.replaceChildren(cursor ? h("button", { type: "button", class: "secondary", onclick: async () => {
    const page = await api.get(queueQuery(cursor));
    document.getElementById("queue-body").append(...queueRows(page.items));
    moreButton(page.next_cursor);
  } }, t("queue.more")) : "");
}

function stopWatching() {
  if (watcher) watcher();
  watcher = null;
}

// Server-sent events say when the queue changed; polling every 30 s only when they cannot be had.
function watchQueue() {
  stopWatching();
  const mode = document.getElementById("queue-live");
  if (!("EventSource" in window)) return pollQueue(mode);
  const source = new EventSource("/v1/queue/events");
  source.addEventListener("queue", () => refreshQueue());
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) { source.close(); pollQueue(mode); }
  });
  watcher = () => source.close();
  return undefined;
}

function pollQueue(mode) {
  mode.textContent = t("queue.polling");
  const timer = setInterval(refreshQueue, 30000);
  watcher = () => clearInterval(timer);
}

async function queue() {
  const organizations = await load(() => api.get("/v1/organizations?limit=200"));
  if (!organizations) return;
  const select = (name, options) => h("select", {}, options.map(([value, label]) =>
    h("option", { value, selected: filters[name] === value ? true : null }, label)));
  const line = select("line", [["", t("queue.line.all")], ["basic", t("queue.line.basic")], ["sla", t("queue.line.sla")]]);
  const priority = select("priority", [["", t("queue.priority.all")], ...["P1", "P2", "P3", "P4"].map((p) => [p, p])]);
  const organization = select("organization_id", [["", t("queue.organization.all")], ...organizations.items.map((o) => [o.id, o.name])]);
  const check = (name, label) => h("label", { class: "check" },
    h("input", { type: "checkbox", name, checked: filters[name] ? true : null }), label);
  const form = h("form", { class: "filters", "aria-label": t("queue.filters") },
    field("line", t("queue.line"), line), field("priority", t("queue.priority"), priority),
    field("organization_id", t("queue.organization"), organization),
    check("assigned_to_me", t("queue.mine")), check("breached", t("queue.breached")),
    h("button", { type: "submit" }, t("queue.apply")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    filters.line = line.value; filters.priority = priority.value; filters.organization_id = organization.value;
    filters.assigned_to_me = form.elements.assigned_to_me.checked; filters.breached = form.elements.breached.checked;
    refreshQueue();
  });
  const headers = ["queue.number", "queue.subject", "queue.organization", "queue.priority", "queue.status", "queue.next_due",
    "queue.timers", "queue.missing", "queue.assignee"];
  render(h("h1", {}, t("queue.title")), form,
    h("p", { class: "live", id: "queue-live" }, t("queue.live")),
    h("p", { class: "live", id: "queue-updated", role: "status" }),
    h("div", { class: "table-wrap" }, h("table", { id: "queue" },
      h("thead", {}, h("tr", {}, headers.map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", { id: "queue-body" }))),
    h("p", { id: "queue-empty", hidden: true }, t("queue.none")),
    h("div", { id: "queue-more" }));
  await refreshQueue();
  watchQueue();
}

// ---- a ticket ---------------------------------------------------------------------------------
async function ticketPage(line, contractId, id) {
  const base = line === "sla" ? `/v1/contracts/${contractId}/tickets/${id}` : `/v1/support/tickets/${id}`;
  const ticket = await load(() => api.get(base));
  if (!ticket) return;
  const reload = () => ticketPage(line, contractId, id);
  const subject = ticket.subject || ticket.project_name;
  const mine = ticket.assignee_id === me.id;

  const assign = async (assignee) => {
    try { await api.put(`/v1/queue/${id}/assignee`, { assignee_id: assignee }); await reload(); } catch (err) {
      if (!(err instanceof Problem)) throw err;
      view.prepend(problemBox(err));
    }
  };
  const facts = h("dl", { class: "card" },
    h("dt", {}, t("ticket.status")), h("dd", {}, h("span", { class: "status", id: "ticket-status" }, t(`status.${ticket.status}`))),
    ticket.clock.priority ? [h("dt", {}, t("ticket.priority")), h("dd", { id: "ticket-priority" }, ticket.clock.priority)] : null,
    h("dt", {}, t("ticket.assignee")), h("dd", { id: "ticket-assignee" }, mine ? me.user?.full_name || me.id : ticket.assignee_id || t("ticket.unassigned")),
    h("dt", {}, t("ticket.description")), h("dd", {}, ticket.description),
    h("dt", {}, t("ticket.filed_by")), h("dd", {}, `${ticket.author_name} <${ticket.author_email}>`));
  const actions = h("div", { class: "actions" },
    mine ? h("button", { type: "button", class: "secondary", onclick: () => assign(null) }, t("ticket.release"))
      : h("button", { type: "button", id: "take", onclick: () => assign(me.id) }, t("ticket.take")));

  const timers = h("ul", { class: "timers card", id: "ticket-timers" }, timersOf(ticket, line).map(timerLine));
  const missing = ticket.missing && ticket.missing.length
    ? [h("h2", {}, t("ticket.missing")), h("ul", {}, ticket.missing.map((m) => h("li", {}, m)))] : null;
  const messages = ticket.messages.length
    ? h("ul", { class: "messages", id: "messages" }, ticket.messages.map((m) => h("li", { class: m.internal ? "internal" : null },
      h("div", { class: "meta" }, `${when(m.created_at)} · ${m.author_kind}${m.internal ? ` · ${t("ticket.internal")}` : ""}`), m.body)))
    : h("p", { id: "messages" }, t("ticket.no_messages"));
  const attachments = ticket.attachments.length ? [h("h2", {}, t("ticket.attachments")), h("ul", {},
    ticket.attachments.map((a) => h("li", {}, h("a", { href: `${base}/attachments/${a.id}`, download: a.filename,
      "aria-label": t("ticket.download", { name: a.filename }) }, a.filename), ` (${a.kind}, ${a.size_bytes} B)`)))] : null;

  // Reply: public, or an internal note.
  const body = h("textarea", { required: true });
  const internal = h("input", { type: "checkbox", id: "f-internal", name: "internal" });
  const send = h("button", { type: "submit" }, t("ticket.send"));
  const reply = h("form", { class: "card", id: "reply", novalidate: true },
    field("body", t("ticket.reply_body"), body),
    h("div", { class: "field" }, h("label", { class: "check", for: "f-internal" }, internal, " ", t("ticket.reply_internal"))), send);
  reply.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await busy(reply, send, () => api.post(`${base}/messages`, { body: body.value, internal: internal.checked }))) await reload();
  });

  // Lifecycle: ask the customer (pauses the clock), resolve.
  const transition = (formId, to, label, textLabel) => {
    const text = h("textarea", { required: to === "awaiting_customer" });
    text.id = `f-${formId}-message`;
    const go = h("button", { type: "submit" }, label);
    const form = h("form", { class: "card", id: formId, novalidate: true }, field("message", textLabel, text), go);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const payload = { to, message: text.value || null };
      if (await busy(form, go, () => api.post(`${base}/transitions`, payload, { "If-Match": ticket.etag }))) await reload();
    });
    return form;
  };
  const open = ["new", "in_progress"].includes(ticket.status);
  const lifecycle = [
    open ? [h("h2", {}, t("ticket.request_info")), transition("ask", "awaiting_customer", t("ticket.ask"), t("ticket.request_info_text"))] : null,
    ["new", "in_progress", "awaiting_customer"].includes(ticket.status)
      ? [h("h2", {}, t("ticket.resolve")), transition("resolve", "resolved", t("ticket.resolved"), t("ticket.resolve_text"))] : null,
  ];

  let priorityForm = null;
  if (line === "sla" && ticket.status !== "closed") {
    const choice = h("select", {}, ["P1", "P2", "P3", "P4"].map((p) => h("option", { value: p, selected: p === ticket.clock.priority ? true : null }, p)));
    const reason = h("input", { type: "text", required: true });
    const go = h("button", { type: "submit" }, t("ticket.set_priority"));
    priorityForm = h("form", { class: "card", id: "priority", novalidate: true },
      field("priority", t("ticket.new_priority"), choice), field("reason", t("ticket.priority_reason"), reason), go);
    priorityForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (await busy(priorityForm, go, () => api.post(`${base}/priority`, { priority: choice.value, reason: reason.value }))) await reload();
    });
  }
  const timeline = ticket.timeline && ticket.timeline.length ? [h("h2", {}, t("ticket.timeline")), h("ol", { id: "timeline" },
    ticket.timeline.map((e) => h("li", {}, `${when(e.occurred_at)} · ${e.kind}`)))] : null;

  render(
    h("p", {}, h("a", { href: "#/" }, t("ticket.back"))),
    h("h1", {}, t("ticket.title", { number: ticket.number, subject })),
    facts, actions, h("h2", {}, t("ticket.timers")), timers, missing,
    h("h2", {}, t("ticket.messages")), messages, attachments,
    h("h2", {}, t("ticket.reply")), reply, lifecycle,
    priorityForm ? [h("h2", {}, t("ticket.change_priority")), priorityForm] : null, timeline,
  );
}

// ---- integration clients (admin) --------------------------------------------------------------
async function integrations(shownSecret) {
  const [page, metadata] = (await load(() => Promise.all([
    api.get("/v1/integration-clients?limit=200"), api.get("/.well-known/oauth-authorization-server"),
  ]))) || [];
  if (!page) return;
  const name = h("input", { type: "text", required: true, autocomplete: "off" });
  const scopes = h("fieldset", { class: "field", id: "f-scopes" }, h("legend", {}, t("clients.scopes")),
    metadata.scopes_supported.map((scope) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "scope", value: scope }), " ", scope)),
    h("div", { class: "field-error", "data-error-for": "scopes" }));
  const submit = h("button", { type: "submit" }, t("clients.submit"));
  const form = h("form", { class: "card", id: "new-client", novalidate: true }, field("name", t("clients.name"), name), scopes, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = [...form.querySelectorAll('input[name="scope"]:checked')].map((box) => box.value);
    const created = await busy(form, submit, () => api.post("/v1/integration-clients", { name: name.value, scopes: chosen }));
    if (created) await integrations(created); // the secret lives only in this render, never stored
  });
  const headers = ["clients.name", "clients.client_id", "clients.scopes", "clients.active"];
  render(h("h1", {}, t("clients.title")),
    shownSecret ? h("div", { class: "notice", role: "status", id: "secret-once" },
      h("p", {}, t("clients.secret", { name: shownSecret.name })),
      h("p", { class: "secret", id: "client-secret" }, shownSecret.client_secret)) : null,
    page.items.length ? h("div", { class: "table-wrap" }, h("table", { id: "clients" },
      h("thead", {}, h("tr", {}, headers.map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, page.items.map((c) => h("tr", {},
        h("th", { scope: "row" }, c.name), h("td", {}, c.client_id), h("td", {}, c.scopes.join(", ")),
        h("td", {}, c.is_active ? t("clients.yes") : t("clients.no")))))))
      : h("p", {}, t("clients.none")),
    h("h2", {}, t("clients.create")), form);
}

// ---- routing ----------------------------------------------------------------------------------
async function route() {
  stopWatching();
  applyLanguage();
  if (!signedIn()) { renderSignIn(); return; }
  if (!me) {
    try { me = await api.get("/v1/me"); } catch (err) { renderSignIn(); return; }
  }
  renderNav();
  const [section, a, b, c] = (location.hash.replace(/^#\/?/, "") || "").split("/").filter(Boolean);
  if (section === "signout") { await signOut(); me = null; location.hash = "#/"; renderSignIn(); return; }
  if (hasRole(...CUSTOMER_ROLES) || me.kind !== "user") { notStaff(); return; }
  if (section === "integrations" && hasRole("admin")) return integrations(null);
  if (!hasRole(...SUPPORT_STAFF)) {
    if (!section) { render(h("h1", {}, t("nav.label")), h("p", {}, t("norole.text"))); return; }
    notFound();
    return;
  }
  if (!section) return queue();
  if (section === "tickets" && a === "basic" && b) return ticketPage("basic", null, b);
  if (section === "tickets" && a === "sla" && b && c) return ticketPage("sla", b, c);
  notFound();
}

window.addEventListener("hashchange", route);
applyLanguage();
restoreSession().then(route);
