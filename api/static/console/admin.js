// The admin's pages: integration clients (the secret shown once), webhook subscriptions, the audit log
// and the outbox.
import { api } from "/portal/assets/api.js";
import { alertProblem, field, form, h, load, more, render, select, state, t, table, when } from "./ui.js";

// ---- integration clients (admin) --------------------------------------------------------------
export async function integrations(shownSecret) {
  const [page, metadata] = (await load(() => Promise.all([
    api.get("/v1/integration-clients?limit=200"), api.get("/.well-known/oauth-authorization-server"),
  ]))) || [];
  if (!page) return;
  const name = h("input", { type: "text", required: true, autocomplete: "off" });
  const scopes = h("fieldset", { class: "field", id: "f-scopes" }, h("legend", {}, t("clients.scopes")),
    metadata.scopes_supported.map((scope) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "scope", value: scope }), " ", scope)),
    h("div", { class: "field-error", "data-error-for": "scopes" }));
  const register = form("new-client", [field("name", t("clients.name"), name), scopes], t("clients.submit"),
    () => api.post("/v1/integration-clients", {
      name: name.value, scopes: [...scopes.querySelectorAll('input[name="scope"]:checked')].map((box) => box.value),
    }),
    (created) => integrations(created)); // the secret lives only in this render, never stored
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
    h("h2", {}, t("clients.create")), register);
}

// ---- webhook subscriptions --------------------------------------------------------------------
export async function webhooks(created) {
  const [page, documented] = (await load(() => Promise.all([
    api.get("/v1/webhook-subscriptions"), api.get("/schema/openapi.json"),
  ]))) || [];
  if (!page) return;
  const url = h("input", { type: "url", required: true, placeholder: "https://" });
  const types = h("fieldset", { class: "field" }, h("legend", {}, t("webhooks.events")),
    Object.keys(documented.webhooks || {}).sort().map((type) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "event_type", value: type }), " ", type)),
    h("div", { class: "field-error", "data-error-for": "event_types" }));
  const subscribe = form("new-subscription", [field("url", t("webhooks.url"), url), types], t("webhooks.subscribe"),
    () => api.post("/v1/webhook-subscriptions", {
      url: url.value, event_types: [...types.querySelectorAll("input:checked")].map((box) => box.value),
    }), (made) => webhooks(made));
  const items = Array.isArray(page) ? page : page.items;
  render(h("h1", {}, t("webhooks.title")),
    created ? h("div", { class: "notice", role: "status", id: "secret-once" },
      h("p", {}, t("webhooks.secret", { url: created.url })), h("p", { class: "secret" }, created.secret)) : null,
    items.length ? table("subscriptions", ["webhooks.url", "webhooks.events", "webhooks.active", ""], items.map((s) => h("tr", {},
      h("th", { scope: "row" }, s.url), h("td", {}, s.event_types.join(", ")),
      h("td", {}, s.active ? t("clients.yes") : `${t("clients.no")} ${s.disabled_reason || ""}`),
      h("td", {}, s.active ? h("button", { type: "button", class: "secondary", "aria-label": t("webhooks.end", { url: s.url }),
        onclick: async () => {
          try { await api.delete(`/v1/webhook-subscriptions/${s.id}`); await webhooks(null); } catch (err) { alertProblem(err); }
        } }, t("webhooks.end_short")) : ""))))
      : h("p", {}, t("webhooks.none")),
    h("h2", {}, t("webhooks.new")), subscribe);
}

// ---- audit log --------------------------------------------------------------------------------
const auditFilters = { action: "", organization_id: "", since: "", until: "" };

export async function audit() {
  const query = new URLSearchParams({ limit: "50" });
  for (const [name, value] of Object.entries(auditFilters)) if (value) query.set(name, value);
  const page = await load(() => api.get(`/v1/audit?${query}`));
  if (!page) return;
  const action = h("input", { type: "text", value: auditFilters.action });
  const organization = h("input", { type: "text", value: auditFilters.organization_id });
  const since = h("input", { type: "datetime-local", value: auditFilters.since.slice(0, 16) });
  const until = h("input", { type: "datetime-local", value: auditFilters.until.slice(0, 16) });
  const filters = form("audit-filters", [
    field("action", t("audit.action"), action), field("organization_id", t("audit.organization"), organization),
    field("since", t("audit.since"), since), field("until", t("audit.until"), until),
  ], t("queue.apply"), async () => {
    const iso = (value) => (value ? new Date(value).toISOString() : "");
    const wanted = { action: action.value.trim(), organization_id: organization.value.trim(), since: iso(since.value), until: iso(until.value) };
    const probe = new URLSearchParams({ limit: "1" });
    for (const [name, value] of Object.entries(wanted)) if (value) probe.set(name, value);
    await api.get(`/v1/audit?${probe}`); // problems (a malformed id, say) show next to their field
    Object.assign(auditFilters, wanted);
    return true;
  }, () => audit());
  filters.classList.add("filters");
  const rows = (items) => items.map((e) => h("tr", {},
    h("td", {}, when(e.occurred_at)), h("th", { scope: "row" }, e.action), h("td", {}, `${e.actor_type} ${e.actor_id || ""}`),
    h("td", {}, `${e.subject_type || ""} ${e.subject_id || ""}`), h("td", {}, JSON.stringify(e.data || {}))));
  const body = rows(page.items);
  const list = table("audit", ["audit.when", "audit.action", "audit.actor", "audit.subject", "audit.data"], body);
  render(h("h1", {}, t("audit.title")), filters,
    page.items.length ? [list, more(`/v1/audit?${query}`, page.next_cursor, (items) => list.querySelector("tbody").append(...rows(items)))]
      : h("p", {}, t("audit.none")));
}

// ---- outbox -----------------------------------------------------------------------------------
export async function outbox(status = "dead") {
  const path = `/v1/outbox/deliveries?limit=50${status ? `&status=${status}` : ""}`;
  const page = await load(() => api.get(path));
  if (!page) return;
  const choice = select([["", t("outbox.all")], ...["dead", "pending", "delivered", "skipped"].map((s) => [s, t(`outbox.${s}`)])], status);
  choice.addEventListener("change", () => outbox(choice.value));
  render(h("h1", {}, t("outbox.title")),
    h("div", { class: "filters" }, field("status", t("outbox.status"), choice)),
    page.items.length ? deliveries(page.items, status, path, page.next_cursor)
      : h("p", {}, t("outbox.none")));
}

function deliveries(items, status, path, cursor) {
  const rows = (found) => found.map((d) => h("tr", {},
        h("th", { scope: "row" }, d.event_type), h("td", {}, `${d.channel}: ${d.recipient}`), h("td", {}, t(`outbox.${d.status}`)),
        h("td", {}, d.attempts), h("td", {}, d.last_error || t("common.none")),
        h("td", {}, d.status === "dead" ? h("button", { type: "button", "aria-label": t("outbox.redeliver", { event: d.event_type, recipient: d.recipient }),
          onclick: async () => {
            try { await api.post(`/v1/outbox/deliveries/${d.id}/redeliver`); await outbox(status); } catch (err) { alertProblem(err); }
          } }, t("outbox.redeliver_short")) : "")));
  const list = table("deliveries", ["outbox.event", "outbox.recipient", "outbox.status", "outbox.attempts", "outbox.error", ""], rows(items));
  return [list, more(path, cursor, (found) => list.querySelector("tbody").append(...rows(found)))];
}

// ---- staff and their roles --------------------------------------------------------------------
const STAFF_ROLES = ["support_engineer", "support_lead", "sales", "admin"];

export async function staff(notice) {
  const page = await load(() => api.get("/v1/staff?limit=200"));
  if (!page) return;
  const email = h("input", { type: "email", required: true, autocomplete: "off" });
  const fullName = h("input", { type: "text", required: true, autocomplete: "off" });
  const role = select(STAFF_ROLES.map((r) => [r, t(`role.${r}`)]), "support_engineer");
  const password = h("input", { type: "password", autocomplete: "new-password" });
  const add = form("new-staff", [field("email", t("staff.email"), email), field("full_name", t("staff.name"), fullName),
    field("role", t("staff.role"), role), field("password", t("staff.password"), password, t("staff.password_hint"))],
  t("staff.add"), () => api.post("/v1/staff", { email: email.value, full_name: fullName.value, role: role.value,
    password: password.value || null }), (made) => staff(t("staff.added", { name: made.full_name })));
  const change = async (user, patch, message) => {
    try { await api.patch(`/v1/staff/${user.id}`, patch); await staff(message); } catch (err) { alertProblem(err); }
  };
  render(h("h1", {}, t("staff.title")), notice ? h("div", { class: "notice", role: "status" }, notice) : null,
    table("staff", ["staff.name", "staff.email", "staff.role", "staff.active", ""], page.items.map((user) => {
      const roleChoice = select(STAFF_ROLES.map((r) => [r, t(`role.${r}`)]), user.role);
      roleChoice.setAttribute("aria-label", t("staff.role_of", { name: user.full_name }));
      roleChoice.addEventListener("change", () => change(user, { role: roleChoice.value }, t("staff.role_changed", { name: user.full_name })));
      const self = user.id === state.me.id;
      if (self) roleChoice.disabled = true;
      return h("tr", {}, h("th", { scope: "row" }, user.full_name), h("td", {}, user.email), h("td", {}, roleChoice),
        h("td", {}, user.is_active ? t("clients.yes") : t("clients.no")),
        h("td", {}, self ? "" : h("button", { type: "button", class: "secondary",
          onclick: () => change(user, { is_active: !user.is_active }, t(user.is_active ? "staff.deactivated" : "staff.activated", { name: user.full_name })) },
        t(user.is_active ? "staff.deactivate" : "staff.activate", { name: user.full_name }))));
    })),
    h("h2", {}, t("staff.new")), add);
}
