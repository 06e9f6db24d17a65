// The support lead's pages: the knowledge base editor (with a preview of what a ticket's text would be
// offered), the regulation's versions, and the explanation requests customers sent.
import { api } from "/portal/assets/api.js";
import { field, form, h, input, load, more, render, t, table, when } from "./ui.js";

// ---- knowledge base ---------------------------------------------------------------------------
export async function articles(slug) {
  const [list, editing] = (await load(() => Promise.all([
    api.get("/v1/kb/articles?limit=100"), slug ? api.get(`/v1/kb/articles/${encodeURIComponent(slug)}`) : null,
  ]))) || [];
  if (!list) return;
  const items = Array.isArray(list) ? list : list.items;
  const slugInput = input("text", { required: true, value: editing?.slug || "", readonly: editing ? true : null });
  const title = input("text", { required: true, value: editing?.title || "" });
  const body = h("textarea", { required: true, rows: "8" }, editing?.body || "");
  const tags = input("text", { value: (editing?.tags || []).join(", ") });
  const published = input("checkbox", { id: "f-published", name: "published", checked: editing?.published ? true : null });
  const values = () => ({
    title: title.value, body: body.value, published: published.checked,
    tags: tags.value.split(",").map((tag) => tag.trim()).filter(Boolean),
  });
  const editor = form("article", [
    field("slug", t("kb.slug"), slugInput, t("kb.slug_hint")), field("title", t("kb.title_field"), title),
    field("body", t("kb.body"), body), field("tags", t("kb.tags"), tags, t("kb.tags_hint")),
    h("div", { class: "field" }, h("label", { class: "check", for: "f-published" }, published, " ", t("kb.published"))),
  ], editing ? t("kb.save") : t("kb.create"),
  () => (editing ? api.patch(`/v1/kb/articles/${encodeURIComponent(editing.slug)}`, values())
    : api.post("/v1/kb/articles", { slug: slugInput.value, ...values() })),
  (saved) => { location.hash = `#/articles/${encodeURIComponent(saved.slug)}`; });

  // What a customer typing this text would be offered (the same search the portal's suggestions use).
  const sample = h("textarea", { rows: "3" });
  const matches = h("ol", { id: "kb-preview", "aria-live": "polite" });
  const preview = form("kb-try", [field("sample", t("kb.preview_text"), sample)], t("kb.preview"), async () => {
    const found = await api.get(`/v1/kb/articles?q=${encodeURIComponent(sample.value)}&limit=5`);
    return Array.isArray(found) ? found : found.items;
  }, (found) => {
    matches.replaceChildren(...(found.length ? found.map((a) => h("li", {}, a.title)) : [h("li", {}, t("kb.no_match"))]));
  });

  render(h("h1", {}, t("kb.title")),
    table("articles", ["kb.title_field", "kb.tags", "kb.state", "kb.updated"], items.map((a) => h("tr", {},
      h("th", { scope: "row" }, h("a", { href: `#/articles/${encodeURIComponent(a.slug)}` }, a.title)),
      h("td", {}, a.tags.join(", ")), h("td", {}, a.published ? t("kb.state.published") : t("kb.state.draft")),
      h("td", {}, when(a.updated_at))))),
    h("h2", {}, editing ? t("kb.edit", { title: editing.title }) : t("kb.new")),
    editing ? h("p", {}, h("a", { href: "#/articles" }, t("kb.write_new"))) : null, editor,
    h("h2", {}, t("kb.preview_title")), preview, matches);
}

// ---- regulation -------------------------------------------------------------------------------
export async function regulation() {
  const [current, versions] = (await load(() => Promise.all([
    api.get("/v1/support/regulation"), api.get("/v1/support/regulation/versions?limit=50"),
  ]))) || [];
  if (!current) return;
  const versionRows = (items) => items.map((v) => h("tr", {}, h("th", { scope: "row" }, v.version), h("td", {}, when(v.published_at)),
    h("td", {}, v.first_response_minutes), h("td", {}, v.update_interval_minutes), h("td", {}, v.required_items.join(", "))));
  const versionList = table("regulation-versions", ["reg.version", "reg.published", "reg.first", "reg.update", "reg.items"], versionRows(versions.items));
  const zoneInput = input("text", { value: current.time_zone, required: true });
  const opens = input("time", { value: (current.weekly_hours["0"] || [["09:00", "18:00"]])[0][0] });
  const closes = input("time", { value: (current.weekly_hours["0"] || [["09:00", "18:00"]])[0][1] });
  const first = input("number", { value: current.first_response_minutes, min: "1" });
  const update = input("number", { value: current.update_interval_minutes, min: "1" });
  const items = input("text", { value: current.required_items.join(", ") });
  const retention = input("number", { value: current.attachment_retention_days, min: "1" });
  const text = h("textarea", { rows: "6" }, current.text || "");
  const publish = form("regulation-form", [
    field("time_zone", t("reg.zone"), zoneInput), field("weekly_hours", t("reg.opens"), opens), field("closes", t("reg.closes"), closes),
    field("first_response_minutes", t("reg.first"), first), field("update_interval_minutes", t("reg.update"), update),
    field("required_items", t("reg.items"), items, t("kb.tags_hint")), field("attachment_retention_days", t("reg.retention"), retention),
    field("text", t("reg.text"), text),
  ], t("reg.publish"), () => api.post("/v1/support/regulation", {
    time_zone: zoneInput.value,
    weekly_hours: Object.fromEntries(["0", "1", "2", "3", "4"].map((d) => [d, [[opens.value, closes.value]]])),
    holiday_calendar: current.holiday_calendar,
    first_response_minutes: Number(first.value), update_interval_minutes: Number(update.value),
    required_items: items.value.split(",").map((item) => item.trim()).filter(Boolean),
    attachment_retention_days: Number(retention.value), text: text.value,
  }), () => regulation());
  render(h("h1", {}, t("reg.title")),
    h("dl", { class: "card", id: "regulation" },
      h("dt", {}, t("reg.version")), h("dd", {}, `${current.version} · ${when(current.published_at)}`),
      h("dt", {}, t("reg.zone")), h("dd", {}, current.time_zone),
      h("dt", {}, t("reg.first")), h("dd", {}, current.first_response_minutes),
      h("dt", {}, t("reg.update")), h("dd", {}, current.update_interval_minutes),
      h("dt", {}, t("reg.items")), h("dd", {}, current.required_items.join(", "))),
    h("h2", {}, t("reg.versions")), versionList,
    more("/v1/support/regulation/versions?limit=50", versions.next_cursor, (items) => versionList.querySelector("tbody").append(...versionRows(items))),
    h("h2", {}, t("reg.new")), publish);
}

// ---- explanation requests ---------------------------------------------------------------------
export async function explanations() {
  const page = await load(() => api.get("/v1/support/explanation-requests?limit=50"));
  if (!page) return;
  const rows = (items) => items.map((e) => h("tr", {},
    h("td", {}, when(e.created_at)), h("th", { scope: "row" }, h("a", { href: `#/tickets/basic/${e.ticket_id}` }, e.ticket_id)),
    h("td", {}, e.reason)));
  const list = table("explanations", ["expl.when", "expl.ticket", "expl.reason"], rows(page.items));
  render(h("h1", {}, t("expl.title")),
    page.items.length ? [list, more("/v1/support/explanation-requests?limit=50", page.next_cursor,
      (items) => list.querySelector("tbody").append(...rows(items)))] : h("p", {}, t("expl.none")));
}

// ---- holidays of the regulation's calendar ----------------------------------------------------
export async function holidays(notice) {
  const current = await load(() => api.get("/v1/support/regulation"));
  if (!current) return;
  const calendar = current.holiday_calendar;
  const year = new Date().getFullYear();
  const list = await api.get(`/v1/calendars/holidays?calendar=${encodeURIComponent(calendar)}&year=${year}`);
  const file = input("file", { accept: ".ics,text/calendar" });
  const replace = input("checkbox", { id: "f-replace", name: "replace" });
  const upload = form("holiday-import", [field("file", t("hol.file"), file, t("hol.file_hint")),
    h("div", { class: "field" }, h("label", { class: "check", for: "f-replace" }, replace, " ", t("hol.replace")))],
  t("hol.import"), () => {
    const body = new FormData();
    body.append("file", file.files[0] || new Blob([""], { type: "text/calendar" }), file.files[0]?.name || "holidays.ics");
    return api.upload(`/v1/calendars/holidays?calendar=${encodeURIComponent(calendar)}&replace=${replace.checked}`, body);
  }, () => holidays(t("hol.imported")));
  const items = Array.isArray(list) ? list : list.items;
  render(h("h1", {}, t("hol.title", { calendar, year })), notice ? h("div", { class: "notice", role: "status" }, notice) : null,
    items.length ? table("holidays", ["hol.day", "hol.name", "hol.source"], items.map((d) => h("tr", {},
      h("th", { scope: "row" }, d.day), h("td", {}, d.name), h("td", {}, d.source))))
      : h("p", {}, t("hol.none")),
    h("h2", {}, t("hol.import_title")), upload);
}

// ---- the public statistics, as the public sees them -------------------------------------------
export async function stats() {
  const found = await load(() => api.get("/v1/support/stats"));
  if (!found) return;
  const share = (value) => (value === null || value === undefined ? t("common.none") : `${Math.round(value * 100)} %`);
  render(h("h1", {}, t("stats.title")), h("p", {}, t("stats.public")),
    found.months.length ? table("stats", ["stats.month", "stats.tickets", "stats.within", "stats.median", "stats.p90", "stats.paused"],
      found.months.map((m) => h("tr", {}, h("th", { scope: "row" }, m.month), h("td", {}, m.tickets),
        h("td", {}, share(m.answered_within_regulation_share)), h("td", {}, m.median_first_response_minutes ?? t("common.none")),
        h("td", {}, m.p90_first_response_minutes ?? t("common.none")), h("td", {}, share(m.paused_for_missing_information_share)))))
      : h("p", {}, t("stats.none")));
}
