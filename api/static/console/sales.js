// Sales' pages: contracts (a draft whose problems come from the API next to each field, activation
// that lists what is missing, amendments shown side by side before they are made, termination, the
// month's report), organisations (eligibility, purchases, a CSV import previewed first) and the
// service catalog.
import { api, Problem } from "/portal/assets/api.js";
import {
  alertProblem, busy, download, field, form, h, input, load, money, more, render, select, showProblem, state, t, table, when,
} from "./ui.js";

const PRIORITIES = ["P1", "P2", "P3", "P4"];
const WEEKDAYS = ["0", "1", "2", "3", "4"];

// ---- the terms form ---------------------------------------------------------------------------
// Inputs named by the terms' public paths, so each problem the API answers lands next to its field.
// Only what is filled in is sent: activation then says what is still missing.
function termsForm(terms = {}) {
  const major = (minor) => (minor === null || minor === undefined ? "" : String(minor / 100));
  const num = (name, value, label, attrs = {}) => {
    const control = input("number", { value: value ?? "", min: "0", ...attrs });
    return [field(name, label, control), control];
  };
  const hours = (terms.calendar?.weekly_hours || {})["0"]?.[0] || ["", ""];
  const coverage = select([["", t("common.none")], ["all", t("terms.coverage.all")], ["seats", t("terms.coverage.seats")]], terms.coverage?.kind);
  const [maxUsersField, maxUsers] = num("terms.coverage.max_users", terms.coverage?.max_users, t("terms.max_users"), { min: "1" });
  const zoneInput = input("text", { value: terms.calendar?.time_zone || "", placeholder: "Europe/Moscow" });
  const opens = input("time", { value: hours[0] });
  const closes = input("time", { value: hours[1] });
  const [feeField, fee] = num("terms.monthly_fee_minor", major(terms.monthly_fee_minor), t("terms.fee"), { step: "0.01" });
  const currency = select([["", t("common.none")], ["RUB", "RUB"], ["EUR", "EUR"], ["USD", "USD"]], terms.currency);
  const [minutesField, minutes] = num("terms.included_session_minutes", terms.included_session_minutes, t("terms.minutes"));
  const overage = select([["", t("common.none")], ["charge", t("terms.overage.charge")], ["refuse", t("terms.overage.refuse")]], terms.overage?.mode);
  const [rateField, rate] = num("terms.overage.rate_minor_per_hour", major(terms.overage?.rate_minor_per_hour), t("terms.rate"), { step: "0.01" });
  const [capField, cap] = num("terms.service_credits.cap_percent", terms.service_credits?.cap_percent, t("terms.cap"), { max: "100" });
  const responsibilities = h("textarea", { rows: "3" }, terms.responsibilities || "");
  const rows = PRIORITIES.map((p) => {
    const target = (terms.priorities || {})[p] || {};
    const cell = (key, value, label, type = "number") => {
      const control = input(type, { value: value ?? "", "aria-label": `${p}: ${label}`, name: `terms.priorities.${p}.${key}`, min: type === "number" ? "0" : null });
      return [control, h("div", { class: "field-error", "data-error-for": `terms.priorities.${p}.${key}` })];
    };
    const credit = input("number", { value: terms.service_credits?.percent_per_breach?.[p] ?? "", min: "0", max: "100",
      "aria-label": `${p}: ${t("terms.credit")}`, name: `terms.service_credits.percent_per_breach.${p}` });
    return { p, cells: {
      qualifies: cell("qualifies", target.qualifies, t("terms.qualifies"), "text"),
      first_response_minutes: cell("first_response_minutes", target.first_response_minutes, t("terms.first")),
      update_interval_minutes: cell("update_interval_minutes", target.update_interval_minutes, t("terms.update")),
      resolution_minutes: cell("resolution_minutes", target.resolution_minutes, t("terms.resolution")),
    }, credit };
  });
  const priorities = h("fieldset", { class: "field" }, h("legend", {}, t("terms.priorities")),
    h("div", { class: "field-error", "data-error-for": "terms.priorities" }),
    table("targets", ["terms.priority", "terms.qualifies", "terms.first", "terms.update", "terms.resolution", "terms.credit"],
      rows.map((r) => h("tr", {}, h("th", { scope: "row" }, r.p), Object.values(r.cells).map((c) => h("td", {}, c)), h("td", {}, r.credit)))));
  const nodes = [
    h("fieldset", { class: "field" }, h("legend", {}, t("terms.coverage")), field("terms.coverage", t("terms.coverage.kind"), coverage), maxUsersField),
    h("fieldset", { class: "field" }, h("legend", {}, t("terms.calendar")),
      field("terms.calendar", t("terms.zone"), zoneInput), field("terms.calendar.weekly_hours", t("terms.opens"), opens),
      field("terms.calendar.closes", t("terms.closes"), closes)),
    priorities,
    h("fieldset", { class: "field" }, h("legend", {}, t("terms.money")), feeField, field("terms.currency", t("terms.currency"), currency),
      minutesField, field("terms.overage", t("terms.overage"), overage), rateField, capField),
    field("terms.responsibilities", t("terms.responsibilities"), responsibilities),
  ];
  const number = (control) => (control.value === "" ? null : Number(control.value));
  const minor = (control) => (control.value === "" ? null : Math.round(Number(control.value) * 100));
  const read = () => {
    const out = {};
    if (coverage.value) out.coverage = { kind: coverage.value, ...(number(maxUsers) !== null ? { max_users: number(maxUsers) } : {}) };
    if (zoneInput.value) {
      out.calendar = { time_zone: zoneInput.value, weekly_hours: opens.value && closes.value
        ? Object.fromEntries(WEEKDAYS.map((d) => [d, [[opens.value, closes.value]]])) : {} };
    }
    const filled = rows.filter((r) => r.cells.first_response_minutes[0].value !== "");
    if (filled.length) {
      out.priorities = Object.fromEntries(filled.map((r) => [r.p, {
        qualifies: r.cells.qualifies[0].value,
        first_response_minutes: number(r.cells.first_response_minutes[0]),
        update_interval_minutes: number(r.cells.update_interval_minutes[0]),
        resolution_minutes: number(r.cells.resolution_minutes[0]),
      }]));
    }
    if (fee.value !== "") out.monthly_fee_minor = minor(fee);
    if (currency.value) out.currency = currency.value;
    if (minutes.value !== "") out.included_session_minutes = number(minutes);
    if (overage.value) out.overage = { mode: overage.value, ...(overage.value === "charge" ? { rate_minor_per_hour: minor(rate) } : {}) };
    if (cap.value !== "") {
      out.service_credits = { cap_percent: number(cap),
        percent_per_breach: Object.fromEntries(rows.filter((r) => r.credit.value !== "").map((r) => [r.p, number(r.credit)])) };
    }
    if (responsibilities.value) out.responsibilities = responsibilities.value;
    return out;
  };
  return { nodes, read };
}

// The terms as lines a person reads (for the side-by-side of an amendment).
function termLines(terms = {}) {
  const lines = {};
  lines[t("terms.coverage")] = terms.coverage ? `${terms.coverage.kind}${terms.coverage.max_users ? ` (${terms.coverage.max_users})` : ""}` : "";
  lines[t("terms.calendar")] = terms.calendar ? `${terms.calendar.time_zone} ${(terms.calendar.weekly_hours["0"] || []).map((s) => s.join("–")).join(", ")}` : "";
  for (const p of PRIORITIES) {
    const target = (terms.priorities || {})[p];
    lines[`${p}`] = target ? `${target.first_response_minutes} / ${target.update_interval_minutes} / ${target.resolution_minutes}` : "";
  }
  lines[t("terms.fee")] = terms.monthly_fee_minor != null ? money(terms.monthly_fee_minor, terms.currency) : "";
  lines[t("terms.minutes")] = terms.included_session_minutes ?? "";
  lines[t("terms.overage")] = terms.overage ? `${terms.overage.mode}${terms.overage.rate_minor_per_hour ? ` ${money(terms.overage.rate_minor_per_hour, terms.currency)}` : ""}` : "";
  lines[t("terms.cap")] = terms.service_credits ? `${terms.service_credits.cap_percent} %` : "";
  lines[t("terms.responsibilities")] = terms.responsibilities || "";
  return lines;
}

function sideBySide(before, after) {
  const old = termLines(before);
  const fresh = termLines(after);
  return table("amendment-diff", ["amend.term", "amend.now", "amend.then"], Object.keys(fresh).map((name) => h("tr", {
    class: String(old[name]) !== String(fresh[name]) ? "changed" : null }, h("th", { scope: "row" }, name),
  h("td", {}, String(old[name] ?? "")), h("td", {}, String(fresh[name] ?? ""), String(old[name]) !== String(fresh[name]) ? h("span", { class: "badge" }, ` ${t("amend.changed")}`) : ""))));
}

// ---- contracts --------------------------------------------------------------------------------
async function organizationNames() {
  const page = await api.get("/v1/organizations?limit=200");
  return Object.fromEntries(page.items.map((o) => [o.id, o.name]));
}

export async function contracts() {
  const [page, names] = (await load(() => Promise.all([api.get("/v1/contracts?limit=50"), organizationNames()]))) || [];
  if (!page) return;
  const rows = (items) => items.map((c) => h("tr", {}, h("th", { scope: "row" }, h("a", { href: `#/contracts/${c.id}` }, c.number)),
    h("td", {}, names[c.organization_id] || c.organization_id), h("td", {}, h("span", { class: "status" }, t(`contract.${c.status}`))),
    h("td", {}, `${c.starts_on} – ${c.ends_on}`)));
  const list = table("contracts", ["contracts.number", "contracts.organization", "contracts.status", "contracts.period"], rows(page.items));
  render(h("h1", {}, t("contracts.title")),
    h("p", {}, h("a", { class: "button", href: "#/contracts/new" }, t("contracts.new"))),
    page.items.length ? [list, more("/v1/contracts?limit=50", page.next_cursor, (items) => list.querySelector("tbody").append(...rows(items)))]
      : h("p", {}, t("contracts.none")));
}

function headFields(contract, names) {
  const organization = select([["", t("common.none")], ...Object.entries(names).sort((a, b) => a[1].localeCompare(b[1]))], contract?.organization_id);
  const number = input("text", { value: contract?.number || "" });
  const starts = input("date", { value: contract?.starts_on || "" });
  const ends = input("date", { value: contract?.ends_on || "" });
  const signed = input("date", { value: contract?.signed_on || "" });
  const nodes = [
    contract ? null : field("organization_id", t("contracts.organization"), organization),
    field("number", t("contracts.number"), number), field("starts_on", t("contracts.starts"), starts),
    field("ends_on", t("contracts.ends"), ends), field("signed_on", t("contracts.signed"), signed),
  ];
  const read = () => ({
    ...(contract ? {} : { organization_id: organization.value || null }),
    number: number.value, starts_on: starts.value || null, ends_on: ends.value || null, signed_on: signed.value || null,
  });
  return { nodes, read };
}

export async function newContract() {
  const names = await load(organizationNames);
  if (!names) return;
  const head = headFields(null, names);
  const terms = termsForm();
  const draft = form("contract-form", [head.nodes, terms.nodes], t("contracts.save_draft"),
    () => api.post("/v1/contracts", { ...head.read(), terms: terms.read() }),
    (made) => { location.hash = `#/contracts/${made.id}`; });
  render(h("h1", {}, t("contracts.new")), draft);
}

export async function contractPage(id, notice) {
  const [contract, names] = (await load(() => Promise.all([api.get(`/v1/contracts/${id}`), organizationNames()]))) || [];
  if (!contract) return;
  const reload = (message) => contractPage(id, message);
  const summary = h("dl", { class: "card", id: "contract" },
    h("dt", {}, t("contracts.organization")), h("dd", {}, names[contract.organization_id] || contract.organization_id),
    h("dt", {}, t("contracts.status")), h("dd", {}, h("span", { class: "status", id: "contract-status" }, t(`contract.${contract.status}`))),
    h("dt", {}, t("contracts.period")), h("dd", {}, `${contract.starts_on} – ${contract.ends_on}`),
    h("dt", {}, t("contracts.signed")), h("dd", {}, contract.signed_on || t("common.none")),
    contract.terminated_on ? [h("dt", {}, t("contracts.terminated")), h("dd", {}, `${contract.terminated_on}: ${contract.termination_reason}`)] : null);
  const parts = [h("h1", {}, t("contracts.one", { number: contract.number })),
    notice ? h("div", { class: "notice", role: "status" }, notice) : null, summary];

  if (contract.status === "draft") {
    const head = headFields(contract, names);
    const terms = termsForm(contract.terms);
    const missing = h("div", { id: "missing", "aria-live": "polite" });
    const edit = form("contract-form", [head.nodes, terms.nodes], t("contracts.save_draft"),
      () => api.patch(`/v1/contracts/${id}`, { ...head.read(), terms: terms.read() }, { "If-Match": contract.etag }),
      () => reload(t("contracts.saved")));
    const activate = h("button", { type: "button", id: "activate" }, t("contracts.activate"));
    activate.addEventListener("click", async () => {
      try {
        await api.post(`/v1/contracts/${id}/activate`);
        await reload(t("contracts.activated"));
      } catch (err) {
        if (!(err instanceof Problem)) throw err;
        // What is missing, as a list above the form and next to each field.
        missing.replaceChildren(h("div", { class: "problem", role: "alert", tabindex: "-1" },
          h("strong", {}, err.body.title || t("common.error")), h("p", {}, err.body.detail || ""),
          err.errors.length ? h("ul", { id: "missing-list" }, err.errors.map((e) => h("li", {}, `${e.field}: ${e.message}`))) : null));
        showProblem(edit, err);
        missing.firstChild.focus();
      }
    });
    parts.push(h("div", { class: "actions" }, activate), missing, h("h2", {}, t("contracts.edit_draft")), edit);
  } else {
    parts.push(h("h2", {}, t("contracts.terms")), table("terms", ["amend.term", "amend.now"],
      Object.entries(termLines(contract.terms)).map(([name, value]) => h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, String(value))))));
    parts.push(h("h2", {}, t("contracts.versions")), h("ol", { id: "versions" }, contract.versions.map((v) =>
      h("li", {}, `${t("contracts.version", { version: v.version, from: v.effective_from })}${v.reason ? `: ${v.reason}` : ""}`))));
  }
  if (contract.status === "active") {
    // An amendment is reviewed side by side before it is made.
    const effective = input("date", {});
    const reason = input("text", {});
    const terms = termsForm(contract.terms);
    const review = h("div", { id: "amendment-review" });
    const amend = h("form", { class: "card", id: "amendment", novalidate: true },
      field("effective_from", t("amend.from"), effective), field("reason", t("amend.reason"), reason), terms.nodes);
    const check = h("button", { type: "button", class: "secondary" }, t("amend.review"));
    const confirm = h("button", { type: "submit" }, t("amend.make"));
    check.addEventListener("click", () => review.replaceChildren(sideBySide(contract.terms, { ...contract.terms, ...terms.read() })));
    amend.append(h("div", { class: "actions" }, check), review, confirm);
    amend.addEventListener("submit", async (event) => {
      event.preventDefault();
      const done = await busy(amend, confirm, () => api.post(`/v1/contracts/${id}/amendments`, {
        effective_from: effective.value || null, reason: reason.value, terms: { ...contract.terms, ...terms.read() } }));
      if (done) await reload(t("amend.done"));
    });
    const on = input("date", {});
    const why = input("text", {});
    const terminate = form("termination", [field("effective_on", t("term.on"), on), field("reason", t("term.reason"), why)],
      t("term.submit"), () => api.post(`/v1/contracts/${id}/terminate`, { effective_on: on.value || null, reason: why.value }),
      () => reload(t("term.done")));
    parts.push(h("h2", {}, t("amend.title")), amend, h("h2", {}, t("term.title")), terminate);
  }
  if (contract.status !== "draft") {
    parts.push(h("h2", {}, t("report.title")), reportPicker(contract));
    // The contract's invoices: those whose source is this contract.
    const invoices = (await api.get("/v1/invoices?limit=200")).items.filter((i) => i.source_id === contract.id);
    parts.push(h("h2", {}, t("invoices.title")), invoices.length
      ? table("contract-invoices", ["invoices.number", "invoices.period", "invoices.total", "invoices.status", ""], invoices.map((i) => h("tr", {},
        h("th", { scope: "row" }, i.number), h("td", {}, i.period), h("td", {}, money(i.total_minor, i.currency)),
        h("td", {}, i.status), h("td", {}, h("button", { type: "button", class: "secondary", onclick: async () => {
          try { download(await api.text(`/v1/invoices/${i.id}`, "text/csv"), `invoice-${i.number}.csv`, "text/csv"); } catch (err) { alertProblem(err); }
        } }, t("invoices.download", { number: i.number }))))))
      : h("p", {}, t("invoices.none")));
  }
  render(parts);
}

// ---- a month's report -------------------------------------------------------------------------
function reportPicker(contract) {
  const month = input("month", { value: new Date().toISOString().slice(0, 7) });
  const out = h("div", { id: "report" });
  const show = form("report-form", [field("period", t("report.month"), month)], t("report.show"),
    () => api.get(`/v1/contracts/${contract.id}/report?period=${month.value}`), (report) => out.replaceChildren(reportView(report)));
  const csv = h("button", { type: "button", class: "secondary" }, t("report.csv"));
  csv.addEventListener("click", async () => {
    try {
      download(await api.text(`/v1/contracts/${contract.id}/report?period=${month.value}`, "text/csv"), `sla-report-${contract.number}-${month.value}.csv`, "text/csv");
    } catch (err) { alertProblem(err); }
  });
  show.append(csv);
  return h("div", {}, show, out);
}

function reportView(report) {
  // The JSON document as a page: each figure under its own name.
  const rows = [];
  const walk = (value, path) => {
    if (value && typeof value === "object" && !Array.isArray(value)) { for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k); return; }
    if (Array.isArray(value)) { rows.push([path, t("report.items", { count: value.length })]); return; }
    rows.push([path, value === null ? t("common.none") : String(value)]);
  };
  walk(report, "");
  return table("report-figures", ["report.figure", "report.value"], rows.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, v))));
}

// ---- organisations ----------------------------------------------------------------------------
export async function organizations() {
  const page = await load(() => api.get("/v1/organizations?limit=50"));
  if (!page) return;
  const name = input("text", { required: true });
  const zoneInput = input("text", { value: "Europe/Moscow" });
  const create = form("new-organization", [field("name", t("org.name"), name), field("time_zone", t("org.zone"), zoneInput)],
    t("org.create"), () => api.post("/v1/organizations", { name: name.value, time_zone: zoneInput.value }),
    (made) => { location.hash = `#/organizations/${made.id}`; });
  const rows = (items) => items.map((o) => h("tr", {},
    h("th", { scope: "row" }, h("a", { href: `#/organizations/${o.id}` }, o.name)), h("td", {}, o.time_zone),
    h("td", {}, o.support_contact ? o.support_contact.full_name || o.support_contact.email || o.support_contact.user_id : t("common.none"))));
  const list = table("organizations", ["org.name", "org.zone", "org.contact"], rows(page.items));
  render(h("h1", {}, t("org.title")), list,
    more("/v1/organizations?limit=50", page.next_cursor, (items) => list.querySelector("tbody").append(...rows(items))),
    h("h2", {}, t("org.new")), create);
}

export async function organizationPage(id, notice) {
  const [organization, eligibility, purchases] = (await load(() => Promise.all([
    api.get(`/v1/organizations/${id}`), api.get(`/v1/organizations/${id}/eligibility`), api.get(`/v1/organizations/${id}/purchases?limit=200`),
  ]))) || [];
  if (!organization) return;
  const file = input("file", { accept: ".csv,text/csv" });
  const preview = h("div", { id: "import-preview", "aria-live": "polite" });
  let checked = null;
  const upload = (previewOnly) => {
    const body = new FormData();
    body.append("file", file.files[0] || new Blob([""], { type: "text/csv" }), file.files[0]?.name || "purchases.csv");
    return api.upload(`/v1/organizations/${id}/purchases/import${previewOnly ? "?preview=true" : ""}`, body);
  };
  const importForm = form("purchase-import", [field("file", t("org.csv"), file, t("org.csv_hint")), preview], t("org.preview"),
    () => upload(true), (answer) => {
      checked = answer;
      const rows = answer.items || answer.purchases || answer.would_record || [];
      const apply = h("button", { type: "button", id: "apply-import" }, t("org.apply", { count: rows.length }));
      apply.addEventListener("click", async () => {
        try { await upload(false); await organizationPage(id, t("org.imported", { count: rows.length })); } catch (err) { alertProblem(err); }
      });
      preview.replaceChildren(h("p", {}, t("org.would_record", { count: rows.length })),
        table("preview-rows", ["org.product", "org.purchased_on", "org.channel", "org.reference"], rows.map((p) => h("tr", {},
          h("th", { scope: "row" }, p.product), h("td", {}, p.purchased_on), h("td", {}, p.channel), h("td", {}, p.reference)))), apply);
    });
  void checked;
  render(h("h1", {}, organization.name), notice ? h("div", { class: "notice", role: "status" }, notice) : null,
    h("dl", { class: "card", id: "eligibility" },
      h("dt", {}, t("org.eligible")), h("dd", {}, eligibility.eligible ? t("clients.yes") : t("clients.no")),
      h("dt", {}, t("org.why")), h("dd", {}, eligibility.reason),
      h("dt", {}, t("org.contact")), h("dd", {}, eligibility.support_contact ? (eligibility.support_contact.email || eligibility.support_contact.user_id) : t("common.none"))),
    h("h2", {}, t("org.purchases")),
    purchases.items.length ? table("purchases", ["org.product", "org.purchased_on", "org.channel", "org.reference"], purchases.items.map((p) => h("tr", {},
      h("th", { scope: "row" }, p.product), h("td", {}, p.purchased_on), h("td", {}, p.channel + (p.partner_name ? ` (${p.partner_name})` : "")), h("td", {}, p.reference))))
      : h("p", {}, t("org.no_purchases")),
    h("h2", {}, t("org.import")), importForm);
}

// ---- service catalog --------------------------------------------------------------------------
export async function services() {
  const list = await load(() => api.get("/v1/services"));
  if (!list) return;
  const name = input("text", { required: true });
  const minutes = input("number", { min: "1", value: "60" });
  const price = input("number", { min: "0", step: "0.01" });
  const currency = select([["RUB", "RUB"], ["EUR", "EUR"], ["USD", "USD"]], "RUB");
  const description = h("textarea", { rows: "3" });
  const checklist = h("textarea", { rows: "3" });
  const create = form("new-service", [
    field("name", t("svc.name"), name), field("duration_minutes", t("svc.minutes"), minutes),
    field("price_minor", t("svc.price"), price), field("currency", t("terms.currency"), currency),
    field("description", t("svc.description"), description),
    field("checklist", t("svc.checklist"), checklist, t("svc.checklist_hint")),
  ], t("svc.create"), () => api.post("/v1/services", {
    name: name.value, duration_minutes: Number(minutes.value), price_minor: Math.round(Number(price.value) * 100),
    currency: currency.value, description: description.value,
    checklist: checklist.value.split("\n").map((line) => line.trim()).filter(Boolean).map((line, n) => {
      const [label, kind = "text"] = line.split("|").map((part) => part.trim());
      return { key: `item_${n + 1}`, kind, label_en: label, label_ru: label, required: true };
    }),
  }), () => services());
  render(h("h1", {}, t("svc.title")),
    table("services", ["svc.name", "svc.minutes", "svc.price", "svc.checklist"], list.map((s) => h("tr", {},
      h("th", { scope: "row" }, s.name), h("td", {}, s.duration_minutes), h("td", {}, money(s.price_minor, s.currency)),
      h("td", {}, s.checklist.map((c) => (state.lang === "ru" ? c.label_ru : c.label_en)).join("; ") || t("common.none"))))),
    h("h2", {}, t("svc.new")), create);
}
void when;
