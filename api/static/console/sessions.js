// The engineer's remote sessions: a week of assigned sessions day by day, and a session's page where
// the access preconditions are revealed only inside the session's window (each reveal is on the audit
// trail, and shown), and the session is started, completed or marked a no-show.
import { api } from "/portal/assets/api.js";
import { alertProblem, dayName, field, form, h, load, render, state, t, table, when } from "./ui.js";

const DAY = 24 * 60 * 60 * 1000;
let weekStart = null; // the Monday the week view shows

function monday(date) {
  const d = new Date(date);
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  return d;
}

async function allBookings() {
  const found = [];
  let cursor = null;
  do {
    const page = await api.get(`/v1/bookings?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
    found.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && found.length < 1000);
  return found;
}

export async function sessions(mode = "week") {
  weekStart = weekStart || monday(new Date());
  const bookings = await load(allBookings);
  if (!bookings) return;
  const mine = bookings.filter((b) => b.engineer_id === state.me.id);
  const days = mode === "day" ? [new Date()] : [...Array(7).keys()].map((n) => new Date(weekStart.getTime() + n * DAY));
  const sameDay = (iso, day) => new Date(iso).toDateString() === day.toDateString();
  const go = (delta) => { weekStart = new Date(weekStart.getTime() + delta * 7 * DAY); sessions(mode); };
  render(h("h1", {}, t("sessions.title")),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: () => go(-1) }, t("sessions.previous")),
      h("button", { type: "button", class: "secondary", onclick: () => go(1) }, t("sessions.next")),
      h("button", { type: "button", class: "secondary", "aria-pressed": String(mode === "day"), onclick: () => sessions("day") }, t("sessions.today")),
      h("button", { type: "button", class: "secondary", "aria-pressed": String(mode === "week"), onclick: () => sessions("week") }, t("sessions.week"))),
    h("p", { class: "hint" }, t("sessions.zone", { zone: Intl.DateTimeFormat().resolvedOptions().timeZone })),
    days.map((day) => {
      const onDay = mine.filter((b) => sameDay(b.starts_at, day)).sort((a, b) => a.starts_at.localeCompare(b.starts_at));
      return h("section", { class: "day-column", "aria-label": dayName(day) }, h("h2", {}, dayName(day)),
        onDay.length ? h("ul", { class: "messages" }, onDay.map((b) => h("li", {},
          h("a", { href: `#/sessions/${b.id}` }, `${new Date(b.starts_at).toLocaleTimeString(state.lang === "ru" ? "ru-RU" : "en-GB", { hour: "2-digit", minute: "2-digit" })} · ${b.service_name || b.service_id} · ${b.number}`),
          " ", h("span", { class: "status" }, t(`booking.${b.status}`)))))
          : h("p", { class: "hint" }, t("sessions.none_day")));
    }));
}

export async function sessionPage(id, revealed) {
  const [booking, checklist] = (await load(() => Promise.all([
    api.get(`/v1/bookings/${id}`), api.get(`/v1/bookings/${id}/preconditions`),
  ]))) || [];
  if (!booking) return;
  const reload = (secrets) => sessionPage(id, secrets);
  const act = (label, path, body, extra = {}) => h("button", { type: "button", ...extra, onclick: async () => {
    try { await api.post(path, body); await reload(null); } catch (err) { alertProblem(err); }
  } }, label);
  const report = h("textarea", { rows: "3", required: true });
  const complete = form("complete", [field("report", t("sessions.report"), report)], t("sessions.complete"),
    () => api.post(`/v1/bookings/${id}/complete`, { report: report.value }), () => reload(null));
  const live = ["confirmed", "ready", "in_progress"].includes(booking.status);
  const label = (item) => (state.lang === "ru" ? item.label_ru : item.label_en);
  render(h("h1", {}, t("sessions.one", { number: booking.number, service: booking.service_name || "" })),
    h("dl", { class: "card", id: "session" },
      h("dt", {}, t("sessions.when")), h("dd", {}, `${when(booking.starts_at)} – ${when(booking.ends_at)}`),
      h("dt", {}, t("sessions.status")), h("dd", {}, h("span", { class: "status", id: "session-status" }, t(`booking.${booking.status}`))),
      h("dt", {}, t("sessions.funding")), h("dd", {}, booking.funding)),
    h("h2", {}, t("sessions.preconditions")),
    table("preconditions", ["sessions.item", "sessions.value"], checklist.items.map((item) => h("tr", {},
      h("th", { scope: "row" }, label(item)),
      h("td", {}, revealed && item.key in revealed ? h("span", { class: "secret", "data-secret": item.key }, revealed[item.key])
        : item.provided ? String(item.value) : t("sessions.not_provided"))))),
    h("p", { id: "reveal-window" }, t("sessions.window", { from: when(checklist.reveal_from), until: when(checklist.reveal_until) })),
    live ? h("div", { class: "actions" }, h("button", { type: "button", id: "reveal", onclick: async () => {
      try { const answer = await api.post(`/v1/bookings/${id}/preconditions/reveal`); await reload(answer.secrets); } catch (err) { alertProblem(err); }
    } }, t("sessions.reveal"))) : null,
    h("h3", {}, t("sessions.reveals")),
    checklist.reveals.length ? h("ul", { id: "reveals" }, checklist.reveals.map((r) => h("li", {},
      t("sessions.revealed", { when: when(r.occurred_at), who: r.actor_id === state.me.id ? t("sessions.you") : r.actor_id, keys: r.keys.join(", ") }))))
      : h("p", { id: "reveals" }, t("sessions.no_reveals")),
    live ? [h("h2", {}, t("sessions.run")), h("div", { class: "actions" },
      booking.status !== "in_progress" ? act(t("sessions.start"), `/v1/bookings/${id}/start`, undefined, { id: "start" }) : null,
      act(t("sessions.no_show"), `/v1/bookings/${id}/no-show`, { party: "customer" }, { class: "secondary" })), complete] : null);
}
