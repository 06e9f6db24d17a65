// The Deskline customer portal: a dependency-free client of the public /v1 API. Hash routes, DOM
// built with createElement (never innerHTML), problems shown next to the field they name, forms kept
// as typed when a submit fails.
import { api, Problem, restoreSession, setLanguage, signIn, signOut, signedIn } from "./api.js";
import { TEXT } from "./i18n.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");
// Times are shown in the customer organisation's zone (named), as its mail gives them; the browser's
// zone only until the organisation is known.
let zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
let lang = chooseLanguage();
let me = null;

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
    applyLanguage();
    route();
  });
}

// ---- small helpers ----------------------------------------------------------------------------
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
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

function day(iso) {
  return new Intl.DateTimeFormat(lang === "ru" ? "ru-RU" : "en-GB", { weekday: "long", day: "numeric", month: "long", timeZone: zone }).format(new Date(iso));
}

function clock(iso) {
  return new Intl.DateTimeFormat(lang === "ru" ? "ru-RU" : "en-GB", { hour: "2-digit", minute: "2-digit", timeZone: zone }).format(new Date(iso));
}

function money(minor, currency) {
  return new Intl.NumberFormat(lang === "ru" ? "ru-RU" : "en-GB", { style: "currency", currency }).format(minor / 100);
}

function field(name, label, control, hint) {
  control.id = control.id || `f-${name}`;
  control.name = control.name || name;
  const error = h("div", { class: "field-error", id: `${control.id}-error`, "data-error-for": name });
  const hintNode = hint ? h("div", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  control.setAttribute("aria-describedby", [hintNode ? hintNode.id : null, error.id].filter(Boolean).join(" "));
  return h("div", { class: "field" }, h("label", { for: control.id }, label), hintNode, control, error);
}

function problemBox(problem) {
  if (problem.code === "network") return h("div", { class: "problem", role: "alert" }, t("common.network"));
  return h("div", { class: "problem", role: "alert", "data-code": problem.code },
    h("strong", {}, problem.body.title || t("common.error")), h("div", {}, problem.body.detail || ""));
}

// Show a problem at the top of the form and each field error next to its field; nothing typed is lost.
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

// Run a slow call with the button showing it is busy; a Problem is shown in the form.
async function busy(form, button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  const label = button.textContent;
  button.textContent = `${label} …`;
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    if (err.status === 401 && me && !signedIn()) { renderSignIn(t("common.signin_again")); return undefined; }
    showProblem(form, err);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}

function render(...nodes) {
  // Absent parts (no notice to show, say) are left out: replaceChildren would print "null".
  view.replaceChildren(...nodes.flat().filter((node) => node !== null && node !== undefined && node !== false));
  view.focus();
}

function notFound() {
  render(h("h1", {}, t("notfound.title")), h("p", {}, t("notfound.text")),
    h("p", {}, h("a", { class: "button", href: "#/" }, t("notfound.home"))));
}

function loading() {
  render(h("p", { class: "loading", role: "status" }, t("common.loading")));
}

async function load(work) {
  loading();
  try {
    return await work();
  } catch (err) {
    if (err instanceof Problem) {
      if (err.status === 401) { renderSignIn(t("common.signin_again")); return undefined; }
      if (err.status === 404) { notFound(); return undefined; }
      render(problemBox(err));
      return undefined;
    }
    throw err;
  }
}

function renderNav() {
  const links = [["#/", "nav.home"], ["#/tickets", "nav.tickets"], ["#/book", "nav.book"], ["#/bookings", "nav.bookings"], ["#/contracts", "nav.contracts"], ["#/invoices", "nav.invoices"]];
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
    if (done) { await loadMe(); route(); }
  });
  render(h("h1", {}, t("signin.title")), form);
  email.focus();
}

async function loadMe() {
  me = await api.get("/v1/me");
  if (me.organization && me.organization.time_zone) zone = me.organization.time_zone;
}

// ---- home -------------------------------------------------------------------------------------
async function home() {
  const eligibility = await load(() => api.get(`/v1/organizations/${me.organization.id}/eligibility`));
  if (!eligibility) return;
  const contact = eligibility.support_contact;
  render(
    h("h1", {}, t("home.title", { name: me.user ? me.user.full_name : "" })),
    h("section", { class: "card", id: "eligibility" },
      h("p", {}, eligibility.eligible ? t("home.eligible") : t("home.not_eligible", { reason: eligibility.reason })),
      h("p", {}, contact ? t("home.contact", { name: contact.full_name, email: contact.email }) : t("home.no_contact")),
      h("p", {}, me.is_support_contact ? t("home.you_are_contact") : t("home.not_contact"))),
    h("p", { class: "row" },
      me.is_support_contact ? h("a", { class: "button", href: "#/tickets/new" }, t("tickets.new")) : null,
      h("a", { class: "button secondary", href: "#/book" }, t("nav.book"))),
  );
}

// ---- free tickets -----------------------------------------------------------------------------
const MISSING = { device_database: "new.device_database", exchange_archive_link: "new.exchange_archive_link" };

async function tickets() {
  const page = await load(() => api.get("/v1/support/tickets?limit=50"));
  if (!page) return;
  const rows = page.items.map((ticket) => h("tr", {},
    h("td", {}, h("a", { href: `#/tickets/${ticket.id}` }, ticket.number)),
    h("td", {}, ticket.project_name),
    h("td", {}, h("span", { class: "status" }, ticket.status)),
    h("td", {}, when(ticket.clock.first_response_due_at)),
    h("td", {}, ticket.missing.map((m) => t(MISSING[m] || m)).join(", ") || t("common.none"))));
  render(
    h("h1", {}, t("tickets.title")),
    me.is_support_contact ? h("p", {}, h("a", { class: "button", href: "#/tickets/new" }, t("tickets.new"))) : null,
    page.items.length ? h("table", {}, h("thead", {}, h("tr", {}, ...["tickets.number", "tickets.project", "tickets.status", "tickets.due", "tickets.missing"].map((k) => h("th", { scope: "col" }, t(k))))), h("tbody", {}, rows))
      : h("p", {}, t("tickets.none")),
  );
}

function unavailableControl(name) {
  // Each item's own words, so two checkboxes never share an accessible name.
  const item = t(`new.item.${name}`);
  const box = h("input", { type: "checkbox", id: `f-${name}-unavailable` });
  const reason = h("input", { type: "text", id: `f-${name}-reason`, name: `${name}_reason`, disabled: true });
  box.addEventListener("change", () => { reason.disabled = !box.checked; if (box.checked) reason.focus(); });
  return {
    box, reason,
    node: h("div", { class: "row" }, h("label", { for: box.id }, box, " ", t("new.unavailable_item", { item })),
      h("label", { for: reason.id, class: "hint" }, t("new.unavailable_reason_item", { item })), reason,
      h("span", { class: "field-error", "data-error-for": `${name}_reason` })),
  };
}

function newTicket() {
  if (!me.is_support_contact) { render(h("p", { class: "problem" }, t("home.not_contact"))); return; }
  const description = h("textarea", { required: true });
  const suggestions = h("div", { id: "kb-suggestions", "aria-live": "polite" });
  let timer = null;
  description.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const text = description.value.trim();
      if (text.length < 3) { suggestions.replaceChildren(); return; }
      try {
        const found = await api.get(`/v1/kb/articles?q=${encodeURIComponent(text)}&limit=5`);
        suggestions.replaceChildren(...(found.length ? [h("p", { class: "hint" }, t("new.suggestions")),
          h("ul", { class: "suggestions" }, found.map((a) => h("li", {}, a.title)))] : []));
      } catch (err) { suggestions.replaceChildren(); }
    }, 300);
  });
  const file = h("input", { type: "file", name: "device_database_file" });
  const link = h("input", { type: "url", placeholder: "https://" });
  const noFile = unavailableControl("device_database");
  const noLink = unavailableControl("exchange_archive_link");
  const employees = h("input", { type: "number", min: "1", step: "1", required: true });
  const submit = h("button", { type: "submit" }, t("new.submit"));
  const inputs = {
    project_name: h("input", { type: "text", required: true }), description,
    impact: h("textarea", { required: true }), affected_applications: h("input", { type: "text", required: true }),
    affected_employees: employees, steps_to_reproduce: h("textarea", { required: true }),
  };
  const form = h("form", { class: "card", novalidate: true, id: "new-ticket" },
    field("project_name", t("new.project_name"), inputs.project_name),
    field("description", t("new.description"), description, t("new.description_hint")), suggestions,
    field("impact", t("new.impact"), inputs.impact),
    field("affected_applications", t("new.affected_applications"), inputs.affected_applications),
    field("affected_employees", t("new.affected_employees"), employees),
    field("steps_to_reproduce", t("new.steps_to_reproduce"), inputs.steps_to_reproduce),
    h("h2", {}, t("new.checklist")),
    field("device_database", t("new.device_database"), file, t("new.device_database_hint")), noFile.node,
    field("exchange_archive_link", t("new.exchange_archive_link"), link), noLink.node,
    submit);
  let filed = null; // once filed, a retry completes the same ticket instead of filing another
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(form, submit, async () => {
      if (!filed) {
        const body = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, k === "affected_employees" ? (v.value === "" ? null : Number(v.value)) : v.value]));
        if (link.value.trim() && !noLink.box.checked) body.exchange_archive_link = link.value.trim();
        filed = await api.post("/v1/support/tickets", body);
      }
      if (file.files.length && !noFile.box.checked) {
        const data = new FormData();
        data.append("kind", "device_database");
        data.append("file", file.files[0]);
        await api.upload(`/v1/support/tickets/${filed.id}/attachments`, data);
        file.value = "";
      }
      const unavailable = {};
      if (noFile.box.checked) unavailable.device_database = noFile.reason.value;
      if (noLink.box.checked) unavailable.exchange_archive_link = noLink.reason.value;
      if (Object.keys(unavailable).length) {
        const current = await api.get(`/v1/support/tickets/${filed.id}`);
        await api.patch(`/v1/support/tickets/${filed.id}`, { unavailable_items: unavailable }, { "If-Match": current.etag });
      }
      sessionStorage.setItem("deskline.notice", t("new.filed", { number: filed.number }));
      location.hash = `#/tickets/${filed.id}`;
    });
  });
  render(h("h1", {}, t("new.title")), form);
}

function messageList(messages) {
  const shown = messages.filter((m) => !m.internal);
  if (!shown.length) return h("p", {}, t("ticket.no_messages"));
  return h("ul", { class: "messages" }, shown.map((m) => h("li", {},
    h("div", { class: "meta" }, `${m.author_kind === "customer" ? t("ticket.you") : t("ticket.support")} · ${when(m.created_at)}`), m.body)));
}

function replyForm(path, after) {
  const body = h("textarea", { required: true });
  const submit = h("button", { type: "submit" }, t("ticket.send"));
  const form = h("form", { class: "card", novalidate: true, id: "reply" }, field("body", t("ticket.reply"), body), submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const sent = await busy(form, submit, () => api.post(path, { body: body.value }));
    if (sent) after();
  });
  return form;
}

function flash() {
  const message = sessionStorage.getItem("deskline.notice");
  sessionStorage.removeItem("deskline.notice");
  return message ? h("div", { class: "notice", role: "status" }, message) : null;
}

async function ticket(id) {
  const found = await load(() => api.get(`/v1/support/tickets/${id}`));
  if (!found) return;
  const c = found.clock;
  const clockText = c.first_responded_at ? t("ticket.answered_at", { when: when(c.first_responded_at) })
    : c.first_response_due_at ? t("ticket.due", { when: when(c.first_response_due_at) }) : t("ticket.waiting_intake");
  const missing = found.missing.map((item) => missingItem(found, item));
  render(
    flash(),
    h("h1", {}, `${found.number} · ${found.project_name}`),
    h("section", { class: "card" }, h("dl", {},
      h("dt", {}, t("ticket.status")), h("dd", {}, h("span", { class: "status", id: "ticket-status" }, found.status)),
      h("dt", {}, t("ticket.clock")), h("dd", { id: "ticket-clock" }, clockText, c.running ? "" : ` · ${t("ticket.paused")}`, c.breached ? ` · ${t("ticket.breached")}` : ""),
      h("dt", {}, t("ticket.attachments")), h("dd", {}, found.attachments.map((a) => h("div", {}, h("a", { href: `/v1/support/tickets/${found.id}/attachments/${a.id}`, download: a.filename }, a.filename)))),
    )),
    missing.length ? h("section", { class: "card", id: "missing" }, h("h2", {}, t("ticket.missing")), missing) : null,
    h("h2", {}, t("ticket.messages")), messageList(found.messages),
    replyForm(`/v1/support/tickets/${found.id}/messages`, () => ticket(id)),
  );
}

function missingItem(found, item) {
  const declared = (found.unavailable_items || {})[item];
  if (declared !== undefined) {
    return h("p", { class: "declared", "data-item": item }, `${t(MISSING[item] || item)}: ${t("ticket.declared", { reason: declared })}`);
  }
  const form = h("form", { novalidate: true, class: "missing-item" });
  const submit = h("button", { type: "submit" }, item === "device_database" ? t("ticket.upload") : t("ticket.save"));
  const control = item === "device_database" ? h("input", { type: "file" }) : h("input", { type: "url", placeholder: "https://" });
  const none = unavailableControl(item);
  form.append(field(item, t(MISSING[item] || item), control), none.node, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await busy(form, submit, async () => {
      if (none.box.checked) {
        const current = await api.get(`/v1/support/tickets/${found.id}`);
        return api.patch(`/v1/support/tickets/${found.id}`, { unavailable_items: { [item]: none.reason.value } }, { "If-Match": current.etag });
      }
      if (item === "device_database") {
        const data = new FormData();
        data.append("kind", "device_database");
        if (control.files.length) data.append("file", control.files[0]);
        return api.upload(`/v1/support/tickets/${found.id}/attachments`, data);
      }
      const current = await api.get(`/v1/support/tickets/${found.id}`);
      return api.patch(`/v1/support/tickets/${found.id}`, { [item]: control.value }, { "If-Match": current.etag });
    });
    if (done) ticket(found.id);
  });
  return form;
}

// ---- paid remote sessions ---------------------------------------------------------------------
async function book() {
  const services = await load(() => api.get("/v1/services"));
  if (!services) return;
  const slots = h("div", { id: "slots", "aria-live": "polite" });
  const choices = services.filter((s) => s.active).map((service) => {
    const radio = h("input", { type: "radio", name: "service", value: service.id, id: `service-${service.id}` });
    radio.addEventListener("change", () => showSlots(service, slots));
    return h("div", { class: "field" }, h("label", { for: radio.id }, radio, ` ${service.name} — ${money(service.price_minor, service.currency)}, ${t("book.minutes", { n: service.duration_minutes })}`),
      service.description ? h("div", { class: "hint" }, service.description) : null);
  });
  render(h("h1", {}, t("book.title")), h("fieldset", { class: "card" }, h("legend", {}, t("book.choose")), choices), slots);
}

function weekStart(offset) {
  const today = new Date();
  const monday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - ((today.getDay() + 6) % 7));
  return new Date(monday.getTime() + offset * 7 * 86400000);
}

// One week of free start times at a time, with the previous and the next week a click away.
async function showSlots(service, target, offset = 0, choose = (start) => confirmHold(service, start, target)) {
  target.replaceChildren(h("p", { class: "loading", role: "status" }, t("common.loading")));
  const from = new Date(Math.max(weekStart(offset).getTime(), Date.now()));
  const to = weekStart(offset + 1);
  const week = h("h2", { id: "week" }, t("book.week", { from: day(weekStart(offset).toISOString()) }));
  const previous = h("button", { type: "button", class: "secondary", id: "previous-week", disabled: offset <= 0, onclick: () => showSlots(service, target, offset - 1, choose) }, t("book.previous_week"));
  const next = h("button", { type: "button", class: "secondary", id: "next-week", onclick: () => showSlots(service, target, offset + 1, choose) }, t("book.next_week"));
  try {
    const found = await api.get(`/v1/availability?service_id=${service.id}&from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&tz=${encodeURIComponent(zone)}`);
    target.replaceChildren(h("p", { class: "hint" }, t("book.slots", { zone })), week, h("div", { class: "row" }, previous, next),
      slotButtons(found.slots.map((s) => s.starts_at), choose));
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    target.replaceChildren(week, h("div", { class: "row" }, previous, next), problemBox(err));
  }
}

function slotButtons(starts, choose) {
  if (!starts.length) return h("p", {}, t("book.no_slots_week"));
  const groups = new Map();
  for (const start of starts) {
    const key = day(start);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(start);
  }
  // Each button is named with its day as well as its time: a screen reader hears which day it is.
  return h("div", {}, [...groups].map(([label, list]) => [h("div", { class: "day" }, label),
    h("div", { class: "slots" }, list.map((start) => h("button", { type: "button", class: "slot", "data-start": start,
      "aria-label": t("book.slot_label", { day: label, time: clock(start) }), onclick: () => choose(start) }, clock(start))))]));
}

function confirmHold(service, start, target) {
  const submit = h("button", { type: "submit" }, t("book.hold"));
  const back = h("button", { type: "button", class: "secondary", onclick: () => showSlots(service, target) }, t("common.back"));
  const form = h("form", { class: "card", id: "hold" }, h("p", {}, t("book.confirm", { service: service.name, when: when(start), price: money(service.price_minor, service.currency), minutes: 15 })), h("div", { class: "row" }, submit, back));
  const key = crypto.randomUUID(); // one attempt: a retry after a network failure gets the same answer
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      submit.disabled = true;
      submit.setAttribute("aria-busy", "true");
      const booking = await api.post("/v1/bookings", { service_id: service.id, starts_at: start, time_zone: zone }, { "Idempotency-Key": key });
      location.hash = `#/bookings/${booking.id}`;
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      showProblem(form, err);
      const next = err.body.next_free_slots || [];
      if (next.length) form.append(h("p", {}, t("book.next_free")), h("div", { class: "slots" }, next.map((s) => h("button", { type: "button", class: "slot", onclick: () => confirmHold(service, s, target) }, t("book.slot_label", { day: day(s), time: clock(s) })))));
    } finally {
      submit.disabled = false;
      submit.removeAttribute("aria-busy");
    }
  });
  target.replaceChildren(form);
  submit.focus();
}

async function bookings() {
  const page = await load(() => api.get("/v1/bookings?limit=50"));
  if (!page) return;
  const headers = ["bookings.number", "bookings.when", "bookings.service", "bookings.engineer", "bookings.price", "bookings.payment", "bookings.status"];
  render(h("h1", {}, t("bookings.title")), h("p", { class: "hint" }, t("common.times_in", { zone })),
    page.items.length ? h("table", { id: "sessions" },
      h("thead", {}, h("tr", {}, headers.map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, page.items.map((b) => h("tr", {},
        h("th", { scope: "row" }, h("a", { href: `#/bookings/${b.id}` }, b.number)), h("td", {}, when(b.starts_at)),
        h("td", {}, b.service_name || ""), h("td", {}, b.engineer_name || ""), h("td", {}, money(b.price_minor, b.currency)),
        h("td", {}, t(`payment.${b.payment_status || "none"}`)),
        h("td", {}, h("span", { class: "status" }, t(`booking.status.${b.status}`)))))))
      : h("p", {}, t("bookings.none")));
}

let stripeLoaded = null;
function loadStripe() {
  stripeLoaded = stripeLoaded || new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = document.querySelector('meta[name="deskline-stripe-js"]').content;
    script.onload = () => resolve(window.Stripe);
    script.onerror = () => { stripeLoaded = null; reject(new Problem({ code: "network" }, 0)); };
    document.head.append(script);
  });
  return stripeLoaded;
}

async function booking(id) {
  const found = await load(async () => {
    const b = await api.get(`/v1/bookings/${id}`);
    return [b, await api.get(`/v1/services/${b.service_id}`)];
  });
  if (!found) return;
  const [b, service] = found;
  const sections = [
    flash(),
    h("h1", {}, t("booking.title", { number: b.number })),
    h("section", { class: "card" }, h("dl", {},
      h("dt", {}, t("booking.when")), h("dd", {}, `${when(b.starts_at)} – ${clock(b.ends_at)} (${zone})`),
      h("dt", {}, t("book.service")), h("dd", {}, service.name),
      h("dt", {}, t("booking.price")), h("dd", {}, money(b.price_minor, b.currency)),
      h("dt", {}, t("ticket.status")), h("dd", {}, h("span", { class: "status", id: "booking-status" }, t(`booking.status.${b.status}`))),
    )),
  ];
  if (b.status === "pending_payment" && b.payment && b.payment.client_secret) sections.push(paymentForm(b));
  if (b.status === "confirmed" || b.status === "ready") {
    sections.push(await preconditionsForm(b, service));
    sections.push(h("section", { class: "card" }, h("p", { class: "row" },
      h("a", { class: "button secondary", href: `/v1/bookings/${b.id}/invite.ics`, download: `${b.number}.ics`, id: "invite" }, t("booking.invite")),
      feedButton())));
  }
  if (b.cancellation_refund) sections.push(h("p", { class: "notice" }, t(`booking.cancelled_refund.${b.cancellation_refund}`)));
  if (["confirmed", "ready"].includes(b.status)) sections.push(rescheduleSection(b, service));
  if (["pending_payment", "confirmed", "ready"].includes(b.status)) sections.push(cancelSection(b, service));
  render(...sections);
}

function paymentForm(b) {
  const mount = h("div", { id: "card-element" });
  const submit = h("button", { type: "submit", id: "pay" }, t("booking.pay", { price: money(b.price_minor, b.currency) }));
  const form = h("form", { class: "card", novalidate: true, id: "payment" }, h("h2", {}, t("booking.pay_title")),
    b.hold_expires_at ? h("p", {}, t("booking.hold_until", { when: when(b.hold_expires_at) })) : null, mount, submit);
  let card = null;
  loadStripe().then((Stripe) => {
    const stripe = Stripe(document.querySelector('meta[name="deskline-stripe-key"]').content, { locale: lang });
    card = stripe.elements().create("card");
    card.mount(mount);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await busy(form, submit, async () => {
        const result = await stripe.confirmCardPayment(b.payment.client_secret, { payment_method: { card } });
        if (result.error) throw new Problem({ code: result.error.code || "card_error", title: result.error.message }, 402);
        form.replaceChildren(h("p", { class: "notice", role: "status" }, t("booking.paid_waiting")));
        for (let i = 0; i < 60; i += 1) { // only Stripe's webhook confirms the booking
          const now = await api.get(`/v1/bookings/${b.id}`);
          if (now.status !== "pending_payment") {
            sessionStorage.setItem("deskline.notice", t("booking.confirmed"));
            return booking(b.id);
          }
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        return undefined;
      });
    });
  }).catch((err) => form.append(problemBox(err)));
  return form;
}

async function preconditionsForm(b, service) {
  const current = await api.get(`/v1/bookings/${b.id}/preconditions`);
  const choices = Object.fromEntries((service.checklist || []).map((item) => [item.key, item.choices || []]));
  const controls = {};
  const fields = current.items.map((item) => {
    const label = `${lang === "ru" ? item.label_ru : item.label_en}${item.required ? " *" : ""}`;
    let control;
    if (item.kind === "boolean") {
      control = h("input", { type: "checkbox", name: item.key, id: `pc-${item.key}` });
      control.checked = item.value === true;
    } else if (item.kind === "choice") {
      control = h("select", { name: item.key, id: `pc-${item.key}` }, h("option", { value: "" }, t("common.none")), (choices[item.key] || []).map((c) => h("option", { value: c }, c)));
      control.value = item.value || "";
    } else if (item.kind === "secret") {
      control = h("input", { type: "password", name: item.key, id: `pc-${item.key}`, autocomplete: "off", placeholder: item.provided ? t("booking.secret_kept") : "" });
    } else {
      control = h("input", { type: "text", name: item.key, id: `pc-${item.key}` });
      control.value = item.value || "";
    }
    controls[item.key] = { control, item };
    return field(item.key, label, control);
  });
  const submit = h("button", { type: "submit" }, t("booking.save_preconditions"));
  const form = h("form", { class: "card", novalidate: true, id: "preconditions" }, h("h2", {}, t("booking.preconditions")),
    h("p", { class: "hint" }, t("booking.preconditions_hint")), fields, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {};
    for (const [key, { control, item }] of Object.entries(controls)) {
      if (item.kind === "boolean") values[key] = control.checked;
      else if (control.value !== "") values[key] = control.value;
    }
    const saved = await busy(form, submit, () => api.put(`/v1/bookings/${b.id}/preconditions`, { values }));
    if (saved) { sessionStorage.setItem("deskline.notice", t("booking.saved")); booking(b.id); }
  });
  return form;
}

function feedButton() {
  const holder = h("span", {});
  const button = h("button", { type: "button", class: "secondary", id: "feed" }, t("booking.feed"));
  button.addEventListener("click", async () => {
    try {
      const feed = await api.post("/v1/calendar-feeds");
      const address = h("input", { type: "text", readonly: true, id: "feed-url", value: feed.url });
      holder.replaceChildren(field("feed_url", t("booking.feed_url"), address));
      address.select();
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      holder.replaceChildren(problemBox(err));
    }
  });
  holder.append(button);
  return holder;
}

// Moving a session: pick a free time of another week or this one, see what changes, then confirm.
function rescheduleSection(b, service) {
  const section = h("section", { class: "card", id: "reschedule" });
  const slots = h("div", { id: "reschedule-slots", "aria-live": "polite" });
  const open = h("button", { type: "button", class: "secondary" }, t("reschedule.open"));
  const choose = (start) => {
    const until = new Date(new Date(start).getTime() - service.full_refund_hours_before * 3600000).toISOString();
    const confirm = h("button", { type: "submit" }, t("reschedule.confirm"));
    const keep = h("button", { type: "button", class: "secondary", onclick: () => section.replaceChildren(open) }, t("reschedule.keep"));
    const form = h("form", { id: "reschedule-confirm", novalidate: true },
      h("p", { id: "reschedule-change" }, t("reschedule.confirm_text", { service: service.name, old: when(b.starts_at), new: when(start), price: money(b.price_minor, b.currency), until: when(until) })),
      h("div", { class: "row" }, confirm, keep));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const moved = await busy(form, confirm, () => api.post(`/v1/bookings/${b.id}/reschedule`, { starts_at: start }));
      if (moved) { sessionStorage.setItem("deskline.notice", t("reschedule.done")); booking(b.id); }
    });
    slots.replaceChildren(form);
    confirm.focus();
  };
  open.addEventListener("click", () => {
    section.replaceChildren(h("h2", {}, t("reschedule.title")), slots);
    showSlots(service, slots, 0, choose);
  });
  section.append(open);
  return section;
}

function cancelSection(b, service) {
  const section = h("section", { class: "card", id: "cancel" });
  const open = h("button", { type: "button", class: "secondary" }, t("booking.cancel"));
  open.addEventListener("click", async () => {
    let quote;
    try {
      quote = await api.get(`/v1/bookings/${b.id}/cancellation`); // the policy's answer, from the API
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      section.replaceChildren(problemBox(err), open);
      return;
    }
    const hours = service.full_refund_hours_before;
    const policy = b.status === "pending_payment" ? t("booking.refund_hold")
      : quote.refund === "full" ? t("booking.refund_full", { price: money(b.price_minor, b.currency), when: when(quote.full_refund_until) })
        : t("booking.refund_none", { hours, when: when(quote.full_refund_until) });
    const confirm = h("button", { type: "submit", class: "danger" }, t("booking.cancel_confirm"));
    const keep = h("button", { type: "button", class: "secondary", onclick: () => section.replaceChildren(open) }, t("booking.keep"));
    const form = h("form", { id: "cancel-confirm" }, h("p", { id: "refund-policy" }, policy), h("div", { class: "row" }, confirm, keep));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const done = await busy(form, confirm, () => api.post(`/v1/bookings/${b.id}/cancel`));
      if (done) booking(b.id);
    });
    section.replaceChildren(form);
    confirm.focus();
  });
  section.append(open);
  return section;
}

// ---- SLA contracts ----------------------------------------------------------------------------
async function contracts() {
  const page = await load(() => api.get("/v1/contracts?limit=50"));
  if (!page) return;
  render(h("h1", {}, t("contracts.title")), page.items.length ? h("table", {}, h("tbody", {}, page.items.map((c) => h("tr", {},
    h("td", {}, h("a", { href: `#/contracts/${c.id}` }, c.number)), h("td", {}, `${c.starts_on} – ${c.ends_on}`),
    h("td", {}, h("span", { class: "status" }, c.status)))))) : h("p", {}, t("contracts.none")));
}

function previousMonth() {
  const now = new Date();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return first.toISOString().slice(0, 7);
}

async function contract(id) {
  const found = await load(() => Promise.all([api.get(`/v1/contracts/${id}`), api.get(`/v1/contracts/${id}/tickets?limit=50`)]));
  if (!found) return;
  const [c, page] = found;
  const targets = c.terms.priorities || {};
  const priorities = Object.keys(targets).sort();
  const subject = h("input", { type: "text", required: true });
  const description = h("textarea", { required: true });
  const priority = h("select", {}, (priorities.length ? priorities : ["P1", "P2", "P3", "P4"]).map((p) => h("option", { value: p }, p)));
  const submit = h("button", { type: "submit" }, t("contract.file"));
  const form = h("form", { class: "card", novalidate: true, id: "sla-ticket" }, h("h2", {}, t("contract.new_ticket")),
    field("priority", t("contract.priority"), priority), field("subject", t("contract.subject"), subject),
    field("description", t("contract.description"), description), submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const filed = await busy(form, submit, () => api.post(`/v1/contracts/${id}/tickets`, { priority: priority.value, subject: subject.value, description: description.value }));
    if (filed) location.hash = `#/contracts/${id}/tickets/${filed.id}`;
  });
  const month = h("input", { type: "month", value: previousMonth() });
  const show = h("button", { type: "submit" }, t("contract.show_report"));
  const report = h("div", { id: "report" });
  const reportForm = h("form", { class: "card", novalidate: true, id: "report-form" }, h("h2", {}, t("contract.report")), field("period", t("contract.month"), month), show, report);
  reportForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const r = await busy(reportForm, show, () => api.get(`/v1/contracts/${id}/report?period=${encodeURIComponent(month.value)}`));
    if (r) report.replaceChildren(reportTable(r));
  });
  render(
    h("h1", {}, t("contract.title", { number: c.number })),
    h("section", { class: "card" }, h("dl", {},
      h("dt", {}, t("contract.status")), h("dd", {}, h("span", { class: "status" }, c.status)),
      h("dt", {}, t("contract.period")), h("dd", {}, `${c.starts_on} – ${c.ends_on}`),
      h("dt", {}, t("contract.documents")), h("dd", {}, c.documents.length ? c.documents.map((d) => h("div", {}, h("a", { href: `/v1/contracts/${c.id}/documents/${d.id}`, download: d.filename }, d.filename))) : t("common.none"))),
      priorities.length ? h("table", {}, h("caption", {}, t("contract.targets")), h("thead", {}, h("tr", {}, ["contract.priority", "contract.first_response", "contract.update", "contract.resolution"].map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, priorities.map((p) => h("tr", {}, h("th", { scope: "row" }, p), h("td", {}, targets[p].first_response_minutes), h("td", {}, targets[p].update_interval_minutes), h("td", {}, targets[p].resolution_minutes))))) : null),
    h("h2", {}, t("contract.tickets")),
    page.items.length ? h("table", {}, h("tbody", {}, page.items.map((s) => h("tr", {}, h("td", {}, h("a", { href: `#/contracts/${id}/tickets/${s.id}` }, s.number)), h("td", {}, s.subject), h("td", {}, s.clock.priority), h("td", {}, h("span", { class: "status" }, s.status)))))) : h("p", {}, t("tickets.none")),
    form, reportForm,
  );
}

function reportTable(r) {
  return h("div", {},
    h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("contract.priority")), h("th", { scope: "col" }, t("contract.opened")), h("th", { scope: "col" }, t("contract.breaches")))),
      h("tbody", {}, r.priorities.map((line) => h("tr", {}, h("th", { scope: "row" }, line.priority), h("td", {}, line.opened ?? 0),
        h("td", {}, Object.values(line.timers || {}).reduce((n, timer) => n + (timer.breached || 0), 0)))))),
    h("dl", {},
      h("dt", {}, t("contract.breaches")), h("dd", { id: "report-breaches" }, r.credits.breaches),
      h("dt", {}, t("contract.credits")), h("dd", { id: "report-credit" }, money(r.credits.amount_minor, r.currency)),
      h("dt", {}, t("contract.sessions")), h("dd", {}, `${r.sessions.used_included_minutes} / ${r.sessions.included_minutes}`)));
}

async function slaTicket(contractId, id) {
  const s = await load(() => api.get(`/v1/contracts/${contractId}/tickets/${id}`));
  if (!s) return;
  const timers = ["first_response", "update", "resolution"].map((name) => {
    const timer = s.clock[name];
    if (!timer || !timer.due_at) return null;
    const label = t(`contract.${name}`);
    return h("li", {}, timer.stopped_at ? t("sla.stopped", { timer: label, when: when(timer.stopped_at) }) : t("sla.timer", { timer: label, when: when(timer.due_at) }),
      timer.breached ? ` · ${t("contract.breached")}` : "");
  });
  render(
    h("p", {}, h("a", { href: `#/contracts/${contractId}` }, t("common.back"))),
    h("h1", {}, `${s.number} · ${s.subject}`),
    h("section", { class: "card" }, h("dl", {},
      h("dt", {}, t("contract.priority")), h("dd", { id: "sla-priority" }, s.clock.priority),
      h("dt", {}, t("ticket.status")), h("dd", {}, h("span", { class: "status" }, s.status))),
      h("ul", { id: "sla-timers" }, timers)),
    h("h2", {}, t("ticket.messages")), messageList(s.messages),
    replyForm(`/v1/contracts/${contractId}/tickets/${id}/messages`, () => slaTicket(contractId, id)),
  );
}

// ---- invoices ---------------------------------------------------------------------------------
async function invoices() {
  const page = await load(() => api.get("/v1/invoices?limit=50"));
  if (!page) return;
  const headers = ["invoices.number", "invoices.period", "invoices.total", "invoices.status", "invoices.lines"];
  render(h("h1", {}, t("invoices.title")),
    page.items.length ? h("table", { id: "invoices" },
      h("thead", {}, h("tr", {}, headers.map((k) => h("th", { scope: "col" }, t(k))), h("td", {}))),
      h("tbody", {}, page.items.map((i) => h("tr", {},
        h("th", { scope: "row" }, i.number), h("td", {}, i.period), h("td", {}, money(i.total_minor, i.currency)),
        h("td", {}, t(`invoices.status.${i.status}`)),
        h("td", {}, h("ul", { class: "lines" }, i.lines.map((line) => h("li", {}, `${line.description}: ${money(line.amount_minor, i.currency)}`)))),
        h("td", {}, h("button", { type: "button", class: "secondary", "data-invoice": i.id, onclick: () => downloadInvoice(i) }, t("invoices.download", { number: i.number })))))))
      : h("p", {}, t("invoices.none")));
}

async function downloadInvoice(invoice) {
  try {
    const text = await api.text(`/v1/invoices/${invoice.id}`, "text/csv");
    const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: `invoice-${invoice.number}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    view.prepend(problemBox(err));
  }
}

// ---- routing ----------------------------------------------------------------------------------
async function route() {
  applyLanguage();
  if (!signedIn()) { renderSignIn(); return; }
  if (!me) {
    try { await loadMe(); } catch (err) { renderSignIn(); return; }
  }
  renderNav();
  const parts = (location.hash.replace(/^#\/?/, "") || "").split("/").filter(Boolean);
  const [section, id, sub, subId] = parts;
  if (section === "signout") { await signOut(); me = null; location.hash = "#/"; renderSignIn(); return; }
  if (section === "tickets" && id === "new") return newTicket();
  if (section === "tickets" && id) return ticket(id);
  if (section === "tickets") return tickets();
  if (section === "book") return book();
  if (section === "bookings" && id) return booking(id);
  if (section === "bookings") return bookings();
  if (section === "contracts" && id && sub === "tickets" && subId) return slaTicket(id, subId);
  if (section === "contracts" && id) return contract(id);
  if (section === "contracts") return contracts();
  if (section === "invoices" && !id) return invoices();
  if (!section) return home();
  return notFound();
}

window.addEventListener("hashchange", route);
applyLanguage();
restoreSession().then(route);
