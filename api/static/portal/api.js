// The portal's only way to the server: the public /v1 operations (and /portal/session to sign in).
// The session cookie is HttpOnly: no script here ever holds a token, only the CSRF token that every
// state change sends back.
let csrfToken = null;
let language = "en";

export class Problem extends Error {
  constructor(body, status) {
    super(body.detail || body.title || String(status));
    this.status = status;
    this.body = body;
    this.code = body.code || "network";
    this.errors = body.errors || [];
  }
}

export function setLanguage(lang) { language = lang; }
export function signedIn() { return csrfToken !== null; }

async function send(method, path, { json, form, headers = {}, raw = false } = {}) {
  const init = { method, headers: { "Accept-Language": language, Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD" && csrfToken) init.headers["X-CSRF-Token"] = csrfToken;
  if (json !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(json); }
  if (form !== undefined) init.body = form;
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new Problem({ code: "network", detail: "" }, 0);
  }
  if (!response.ok) {
    let body = {};
    try { body = await response.json(); } catch (err) { body = { title: response.statusText }; }
    if (response.status === 401) csrfToken = null;
    throw new Problem(body, response.status);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const body = await response.json();
  const etag = response.headers.get("ETag");
  if (etag && body && typeof body === "object") Object.defineProperty(body, "etag", { value: etag, enumerable: false });
  return body;
}

export const api = {
  get: (path) => send("GET", path),
  post: (path, json, headers) => send("POST", path, { json, headers }),
  put: (path, json) => send("PUT", path, { json }),
  patch: (path, json, headers) => send("PATCH", path, { json, headers }),
  delete: (path, headers) => send("DELETE", path, { headers }),
  upload: (path, form, headers) => send("POST", path, { form, headers }),
  // A document in another representation (e.g. an invoice as CSV), as text.
  text: async (path, accept) => (await send("GET", path, { headers: { Accept: accept }, raw: true })).text(),
};

export async function restoreSession() {
  try {
    const session = await send("GET", "/portal/session");
    csrfToken = session.csrf_token;
  } catch (err) {
    csrfToken = null;
  }
  return signedIn();
}

export async function signIn(email, password) {
  const session = await send("POST", "/portal/session", { json: { email, password } });
  csrfToken = session.csrf_token;
}

export async function signOut() {
  try { await send("DELETE", "/portal/session"); } finally { csrfToken = null; }
}
