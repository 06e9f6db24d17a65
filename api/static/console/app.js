// The Deskline staff console: a dependency-free client of the public /v1 API, like the customer
// portal (whose request module and sign-in it shares). Hash routes; each role's pages come from its own
// module. The API is the judge of every role: the console only leaves out what a role could not do.
import { api, restoreSession, setLanguage, signIn, signOut, signedIn } from "/portal/assets/api.js";
import { audit, integrations, outbox, staff, webhooks } from "./admin.js";
import { articles, explanations, holidays, regulation, stats } from "./lead.js";
import { queue, stopWatching, ticketPage } from "./queue.js";
import { contractPage, contracts, newContract, organizations, organizationPage, services } from "./sales.js";
import { sessionPage, sessions } from "./sessions.js";
import { CUSTOMER_ROLES, SUPPORT_STAFF, busy, field, h, hasRole, notFound, render, state, t } from "./ui.js";

const nav = document.getElementById("nav");
state.lang = chooseLanguage();
state.signedOut = (message) => renderSignIn(message);

function chooseLanguage() {
  const chosen = localStorage.getItem("deskline.lang"); // a preference, never a credential
  if (chosen === "ru" || chosen === "en") return chosen;
  return (navigator.languages || [navigator.language || "en"]).some((l) => l.toLowerCase().startsWith("ru")) ? "ru" : "en";
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  setLanguage(state.lang);
  nav.setAttribute("aria-label", t("nav.label"));
  document.querySelector(".lang")?.setAttribute("aria-label", t("lang.label"));
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
  }
}

for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => {
    state.lang = button.dataset.lang;
    localStorage.setItem("deskline.lang", state.lang);
    route();
  });
}

// Each role's pages, in the order the navigation lists them.
function links() {
  const found = [];
  if (hasRole(...SUPPORT_STAFF)) found.push(["#/", "nav.queue"]);
  if (hasRole("support_engineer", "support_lead")) found.push(["#/sessions", "nav.sessions"]);
  if (hasRole("sales", "admin")) found.push(["#/contracts", "nav.contracts"], ["#/organizations", "nav.organizations"], ["#/services", "nav.services"]);
  if (hasRole("support_lead", "admin")) found.push(["#/articles", "nav.articles"], ["#/regulation", "nav.regulation"], ["#/holidays", "nav.holidays"], ["#/explanations", "nav.explanations"], ["#/stats", "nav.stats"], ["#/outbox", "nav.outbox"]);
  if (hasRole("admin")) found.push(["#/staff", "nav.staff"], ["#/integrations", "nav.integrations"], ["#/webhooks", "nav.webhooks"], ["#/audit", "nav.audit"]);
  return found;
}

function renderNav() {
  const here = (location.hash || "#/").split("/")[1] || "";
  nav.replaceChildren(
    ...(state.me ? links().map(([href, key]) => h("a", { href, "aria-current": href.split("/")[1] === here ? "page" : null }, t(key))) : []),
    ...(state.me ? [h("a", { href: "#/signout", id: "sign-out" }, t("nav.signout"))] : []),
  );
}

function renderSignIn(message) {
  state.me = null;
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
    if (done) { state.me = await api.get("/v1/me"); route(); }
  });
  render(h("h1", {}, t("signin.title")), form);
  email.focus();
}

function notStaff() {
  render(h("h1", {}, t("notstaff.title")), h("p", {}, t("notstaff.text")),
    h("p", {}, h("a", { class: "button", href: "/portal" }, t("notstaff.portal"))));
}

// Routes: [section, test of the rest, page, roles that have it].
const ROUTES = [
  ["", (r) => r.length === 0, () => queue(), SUPPORT_STAFF],
  ["tickets", (r) => r[0] === "basic" && r.length === 2, (r) => ticketPage("basic", null, r[1]), SUPPORT_STAFF],
  ["tickets", (r) => r[0] === "sla" && r.length === 3, (r) => ticketPage("sla", r[1], r[2]), SUPPORT_STAFF],
  ["sessions", (r) => r.length === 0, () => sessions(), ["support_engineer", "support_lead"]],
  ["sessions", (r) => r.length === 1, (r) => sessionPage(r[0]), ["support_engineer", "support_lead", "admin"]],
  ["contracts", (r) => r.length === 0, () => contracts(), ["sales", "admin"]],
  ["contracts", (r) => r[0] === "new", () => newContract(), ["sales", "admin"]],
  ["contracts", (r) => r.length === 1, (r) => contractPage(r[0]), ["sales", "admin"]],
  ["organizations", (r) => r.length === 0, () => organizations(), ["sales", "admin"]],
  ["organizations", (r) => r.length === 1, (r) => organizationPage(r[0]), ["sales", "admin"]],
  ["services", (r) => r.length === 0, () => services(), ["sales", "admin"]],
  ["articles", (r) => r.length <= 1, (r) => articles(r[0]), ["support_lead", "admin"]],
  ["regulation", (r) => r.length === 0, () => regulation(), ["support_lead", "admin"]],
  ["explanations", (r) => r.length === 0, () => explanations(), ["support_lead", "admin"]],
  ["holidays", (r) => r.length === 0, () => holidays(null), ["support_lead", "admin"]],
  ["stats", (r) => r.length === 0, () => stats(), ["support_lead", "admin"]],
  ["staff", (r) => r.length === 0, () => staff(null), ["admin"]],
  ["integrations", (r) => r.length === 0, () => integrations(null), ["admin"]],
  ["webhooks", (r) => r.length === 0, () => webhooks(null), ["admin"]],
  ["audit", (r) => r.length === 0, () => audit(), ["admin"]],
  ["outbox", (r) => r.length === 0, () => outbox(), ["support_lead", "admin"]],
];

async function route() {
  stopWatching();
  applyLanguage();
  if (!signedIn()) { renderSignIn(); return; }
  if (!state.me) {
    try { state.me = await api.get("/v1/me"); } catch (err) { renderSignIn(); return; }
  }
  renderNav();
  const [section = "", ...rest] = (location.hash.replace(/^#\/?/, "") || "").split("/").filter(Boolean);
  if (section === "signout") { await signOut(); state.me = null; location.hash = "#/"; renderSignIn(); return; }
  if (hasRole(...CUSTOMER_ROLES) || state.me.kind !== "user") { notStaff(); return; }
  const found = ROUTES.find(([name, fits, , roles]) => name === section && fits(rest) && hasRole(...roles));
  if (found) { await found[2](rest); return; }
  if (!section) {  // a role without a queue starts at its first page
    const first = links()[0];
    if (first) { location.hash = first[0]; return; }
    render(h("h1", {}, t("nav.label")), h("p", {}, t("norole.text")));
    return;
  }
  notFound();
}

window.addEventListener("hashchange", route);
applyLanguage();
restoreSession().then(route);
