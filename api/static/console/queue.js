// The engineer's work: one queue of both lines by what falls due first, watched through the API's
// event stream, and a ticket page to answer, ask, resolve and reprioritise.
import { api, Problem } from "/portal/assets/api.js";
import { alertProblem, field, form, h, load, more, problemBox, render, scrollable, select, state, t, view, when } from "./ui.js";

let watcher = null; // the queue's EventSource (or its polling fallback) while the queue is shown

// An intake item in words (its key when the console has no words for it).
const intakeItem = (key) => {
  const words = t(`intake.${key}`);
  return words === `intake.${key}` ? key : words;
};

export function stopWatching() {
  if (watcher) watcher();
  watcher = null;
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
    h("td", {}, item.missing.length ? item.missing.map(intakeItem).join(", ") : t("common.none")),
    h("td", {}, item.assignee_name || (item.assignee_id ? item.assignee_id : h("button", {
      type: "button", class: "secondary", "data-take": item.id, "aria-label": t("queue.take", { number: item.number }),
      onclick: async (event) => {
        event.target.disabled = true;
        try { await api.put(`/v1/queue/${item.id}/assignee`, { assignee_id: state.me.id }); } catch (err) {
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
    if (!table.isConnected) return; // the queue was left while it was being read
    table.replaceChildren(...queueRows(page.items));
    document.getElementById("queue-empty").hidden = page.items.length > 0;
    status.textContent = t("queue.updated", { time: new Date().toLocaleTimeString(state.lang === "ru" ? "ru-RU" : "en-GB") });
    document.getElementById("queue-more").replaceChildren(
      more(queueQuery(), page.next_cursor, (items) => table.append(...queueRows(items))));
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    if (status.isConnected) status.textContent = err.body.detail || t("common.error");
  }
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

export async function queue() {
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
    h("div", { class: "table-wrap", ...scrollable(t("queue.title")) }, h("table", { id: "queue" },
      h("thead", {}, h("tr", {}, headers.map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", { id: "queue-body" }))),
    h("p", { id: "queue-empty", hidden: true }, t("queue.none")),
    h("div", { id: "queue-more" }));
  await refreshQueue();
  watchQueue();
}

// ---- a ticket ---------------------------------------------------------------------------------
export async function ticketPage(line, contractId, id) {
  const base = line === "sla" ? `/v1/contracts/${contractId}/tickets/${id}` : `/v1/support/tickets/${id}`;
  const ticket = await load(() => api.get(base));
  if (!ticket) return;
  const reload = () => ticketPage(line, contractId, id);
  const subject = ticket.subject || ticket.project_name;
  const mine = ticket.assignee_id === state.me.id;

  const assign = async (assignee) => {
    try { await api.put(`/v1/queue/${id}/assignee`, { assignee_id: assignee }); await reload(); } catch (err) {
      if (!(err instanceof Problem)) throw err;
      view.prepend(problemBox(err));
    }
  };
  const facts = h("dl", { class: "card" },
    h("dt", {}, t("ticket.status")), h("dd", {}, h("span", { class: "status", id: "ticket-status" }, t(`status.${ticket.status}`))),
    ticket.clock.priority ? [h("dt", {}, t("ticket.priority")), h("dd", { id: "ticket-priority" }, ticket.clock.priority)] : null,
    h("dt", {}, t("ticket.assignee")), h("dd", { id: "ticket-assignee" }, mine ? state.me.user?.full_name || state.me.id : ticket.assignee_id || t("ticket.unassigned")),
    h("dt", {}, t("ticket.description")), h("dd", {}, ticket.description),
    h("dt", {}, t("ticket.filed_by")), h("dd", {}, `${ticket.author_name} <${ticket.author_email}>`));
  const actions = h("div", { class: "actions" },
    mine ? h("button", { type: "button", class: "secondary", onclick: () => assign(null) }, t("ticket.release"))
      : h("button", { type: "button", id: "take", onclick: () => assign(state.me.id) }, t("ticket.take")));

  const timers = h("ul", { class: "timers card", id: "ticket-timers" }, timersOf(ticket, line).map(timerLine));
  const missing = ticket.missing && ticket.missing.length
    ? [h("h2", {}, t("ticket.missing")), h("ul", {}, ticket.missing.map((m) => h("li", {}, intakeItem(m))))] : null;
  const messages = ticket.messages.length
    ? h("ul", { class: "messages", id: "messages" }, ticket.messages.map((m) => h("li", { class: m.internal ? "internal" : null },
      h("div", { class: "meta" }, `${when(m.created_at)} · ${m.author_kind}${m.internal ? ` · ${t("ticket.internal")}` : ""}`), m.body)))
    : h("p", { id: "messages" }, t("ticket.no_messages"));
  const attachments = ticket.attachments.length ? [h("h2", {}, t("ticket.attachments")), h("ul", {},
    ticket.attachments.map((a) => h("li", {}, h("a", { href: `${base}/attachments/${a.id}`, download: a.filename,
      "aria-label": t("ticket.download", { name: a.filename }) }, a.filename), ` (${a.kind}, ${a.size_bytes} B)`)))] : null;

  // Reply: public, or an internal note; knowledge-base articles can be cited (linked into it).
  const body = h("textarea", { required: true });
  const internal = h("input", { type: "checkbox", id: "f-internal", name: "internal" });
  const query = h("input", { type: "search", id: "f-kb-query", value: subject });
  const found = h("div", { id: "kb-found", "aria-live": "polite" });
  const cited = new Set();
  const search = h("button", { type: "button", class: "secondary", onclick: async () => {
    try {
      const articles = await api.get(`/v1/kb/articles?q=${encodeURIComponent(query.value)}&limit=5`);
      found.replaceChildren(...(articles.length ? articles.map((a) => h("label", { class: "check" },
        h("input", { type: "checkbox", name: "cited_articles", value: a.slug, onchange: (event) => {
          if (event.target.checked) {
            cited.add(a.slug);
            body.value = `${body.value}${body.value ? "\n" : ""}${t("ticket.see_article", { title: a.title })}`;
          } else cited.delete(a.slug);
        } }), " ", t("ticket.cite", { title: a.title }))) : [h("p", {}, t("kb.no_match"))]));
    } catch (err) { alertProblem(err); }
  } }, t("ticket.find_articles"));
  const reply = form("reply", [
    field("body", t("ticket.reply_body"), body),
    h("div", { class: "field" }, h("label", { class: "check", for: "f-internal" }, internal, " ", t("ticket.reply_internal"))),
    h("div", { class: "field" }, h("label", { for: "f-kb-query" }, t("ticket.kb_search")), h("div", { class: "row" }, query, search), found,
      h("div", { class: "field-error", "data-error-for": "cited_articles" })),
  ], t("ticket.send"), () => api.post(`${base}/messages`, { body: body.value, internal: internal.checked, cited_articles: [...cited] }), reload);

  // A free remote session support proposes on a basic ticket (funding: the ticket).
  let proposal = null;
  if (line === "basic" && ["new", "in_progress", "awaiting_customer"].includes(ticket.status)) {
    const services = await api.get("/v1/services");
    const service = select(services.map((s) => [s.id, s.name]));
    const slot = h("select", { required: true }, h("option", { value: "" }, t("ticket.pick_service_first")));
    const note = h("textarea", { rows: "2" });
    const findTimes = h("button", { type: "button", class: "secondary", onclick: async () => {
      const from = new Date();
      const to = new Date(from.getTime() + 7 * 24 * 60 * 60 * 1000);
      try {
        const free = await api.get(`/v1/availability?service_id=${service.value}&from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
        slot.replaceChildren(...(free.slots.length ? free.slots.map((s) => h("option", { value: s.starts_at }, when(s.starts_at)))
          : [h("option", { value: "" }, t("ticket.no_times"))]));
      } catch (err) { alertProblem(err); }
    } }, t("ticket.find_times"));
    proposal = form("propose-session", [field("service_id", t("ticket.service"), service), findTimes,
      field("starts_at", t("ticket.starts_at"), slot), field("message", t("ticket.proposal_message"), note)], t("ticket.propose"),
    () => api.post(`${base}/remote-sessions`, { service_id: service.value, starts_at: slot.value || null, message: note.value || null }),
    (booking) => { location.hash = `#/sessions/${booking.id}`; });
  }

  // Lifecycle: ask the customer (pauses the clock), resolve.
  const transition = (formId, to, label, textLabel) => {
    const text = h("textarea", { required: to === "awaiting_customer" });
    text.id = `f-${formId}-message`;
    return form(formId, [field("message", textLabel, text)], label,
      () => api.post(`${base}/transitions`, { to, message: text.value || null }, { "If-Match": ticket.etag }), reload);
  };
  const open = ["new", "in_progress"].includes(ticket.status);
  const lifecycle = [
    open ? [h("h2", {}, t("ticket.request_info")), transition("ask", "awaiting_customer", t("ticket.ask"), t("ticket.request_info_text"))] : null,
    ["new", "in_progress", "awaiting_customer"].includes(ticket.status)
      ? [h("h2", {}, t("ticket.resolve")), transition("resolve", "resolved", t("ticket.resolved"), t("ticket.resolve_text"))] : null,
  ];

  let priorityForm = null;
  if (line === "sla" && ticket.status !== "closed") {
    const choice = select(["P1", "P2", "P3", "P4"].map((p) => [p, p]), ticket.clock.priority);
    const reason = h("input", { type: "text", required: true });
    priorityForm = form("priority", [field("priority", t("ticket.new_priority"), choice), field("reason", t("ticket.priority_reason"), reason)],
      t("ticket.set_priority"), () => api.post(`${base}/priority`, { priority: choice.value, reason: reason.value }), reload);
  }
  const timeline = ticket.timeline && ticket.timeline.length ? [h("h2", {}, t("ticket.timeline")), h("ol", { id: "timeline" },
    ticket.timeline.map((e) => h("li", {}, `${when(e.occurred_at)} · ${e.kind}`)))] : null;

  render(
    h("p", {}, h("a", { href: "#/" }, t("ticket.back"))),
    h("h1", {}, t("ticket.title", { number: ticket.number, subject })),
    facts, actions, h("h2", {}, t("ticket.timers")), timers, missing,
    h("h2", {}, t("ticket.messages")), messages, attachments,
    h("h2", {}, t("ticket.reply")), reply, lifecycle,
    proposal ? [h("h2", {}, t("ticket.propose_title")), proposal] : null,
    priorityForm ? [h("h2", {}, t("ticket.change_priority")), priorityForm] : null, timeline,
  );
}

