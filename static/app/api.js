// The only way the pages talk to the server: the public REST API under /api/v1.
// Every failure becomes an ApiError carrying the API's stable code and its message in words.

const TOKEN_KEY = "access_token";
const API_ROOT = "/api/v1";

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }

  // Field messages from a 422 as sentences a person reads: the API's field keys (bpm_min,
  // profit_share_bps) stay in `details` for programs, the page names the field in words, or
  // not at all when the sentence already does ("Minimum BPM must not be above the maximum.").
  fieldMessages() {
    const lines = [];
    const add = (path, text) => {
      if (!text || text === this.message) return;
      const label = fieldLabel(path);
      lines.push(!label || namesItsField(text, path) ? text : `${label}: ${text}`);
    };
    const walk = (value, path) => {
      if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
        add(path, value.join(" "));
      } else if (value && typeof value === "object") {
        for (const [key, inner] of Object.entries(value)) {
          walk(inner, ["json", "form", "files", "query"].includes(key) ? path : [...path, key]);
        }
      } else if (typeof value === "string") {
        add(path, value);
      }
    };
    walk(this.details.fields ?? this.details, []);
    return [...new Set(lines)];
  }
}

// How the pages name the API's fields, where the key itself would not read well.
const FIELD_LABELS = {
  bpm: "BPM", bpm_min: "Minimum BPM", bpm_max: "Maximum BPM", price_min: "Minimum price",
  price_max: "Maximum price", profit_share_bps: "Profit share", publishing_share_bps: "Publishing share",
  master_points_bps: "Master points", coupon_code: "Coupon code", user_id: "Linked account",
  min_age_hours: "Minimum age", max_age_hours: "Maximum age", credit_line_template: "Credit line",
  email: "Email address", new_email: "New email address", _schema: "", input: "",
};

// Whether a sentence already says which field it is about: every word of the field's name is in
// it ("No coupon with this code" for coupon_code). A field in a list keeps its label ("Credit 2").
function namesItsField(text, path) {
  if (path.some((key) => /^\d+$/.test(key))) return false;
  const words = fieldLabel(path.slice(-1)).toLowerCase().split(/\W+/).filter((word) => word.length > 2);
  const said = text.toLowerCase();
  return words.every((word) => said.includes(word));
}

// ["credits", "0", "profit_share_bps"] -> "Credit 1, profit share"; [] -> "" (the whole request).
function fieldLabel(path) {
  const words = path.map((key, index) => {
    if (/^\d+$/.test(key)) {
      const owner = index > 0 ? path[index - 1].replace(/s$/, "") : "item";
      return `${owner.replaceAll("_", " ")} ${Number(key) + 1}`;
    }
    if (index + 1 < path.length && /^\d+$/.test(path[index + 1])) return null;  // named with its index
    return key in FIELD_LABELS ? FIELD_LABELS[key] : key.replace(/_bps$/, "").replaceAll("_", " ");
  }).filter(Boolean);
  const text = words.map((word, index) => (index ? word.charAt(0).toLowerCase() + word.slice(1) : word)).join(", ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function token() {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

function headers(extra = {}) {
  const result = { Accept: "application/json", ...extra };
  const current = token();
  if (current) result.Authorization = `Bearer ${current}`;
  return result;
}

async function errorFrom(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON: fall back to the status */ }
  const error = body && body.error;
  if (error) return new ApiError(response.status, error.code, error.message, error.details);
  return new ApiError(response.status, "http_" + response.status, `The server answered ${response.status} ${response.statusText}.`);
}

// Answers the server put in a public page for its first requests (see _first_answers in
// marketplace/web.py), as a visitor who is not signed in gets them: the first paint needs no
// round trip to the API. Each is used once; the next request for it goes to the server.
const firstAnswers = readFirstAnswers();

function readFirstAnswers() {
  const block = document.getElementById("first-answers");
  try {
    return new Map(Object.entries(JSON.parse(block ? block.textContent : "{}")));
  } catch {
    return new Map(); // a broken block costs a round trip, nothing else
  }
}

// "/api/v1/beats?limit=24": the address with its query sorted, as the server keys its answers.
function answerKey(url) {
  const query = new URLSearchParams(url.search);
  query.sort();
  const text = query.toString();
  return text ? `${url.pathname}?${text}` : url.pathname;
}

function takeFirstAnswer(url) {
  if (!firstAnswers.size || token()) return undefined;
  const key = answerKey(url);
  const answer = firstAnswers.get(key);
  firstAnswers.delete(key);
  return answer;
}

// Answers a page asked for early, while the visitor's account was being checked (see
// startPrefetch in main.js): each answers the page's own request for the same address once, and
// is forgotten at the next navigation.
const earlyAnswers = new Map();

export function prefetch(path, { query } = {}) {
  const key = answerKey(apiUrl(path, query));
  if (earlyAnswers.has(key)) return;
  const answer = api(path, { query });
  answer.catch(() => {}); // a failure is the page's to show, when it asks
  earlyAnswers.set(key, answer);
}

export function forgetPrefetched() {
  earlyAnswers.clear();
}

function takeEarlyAnswer(url) {
  const key = answerKey(url);
  const answer = earlyAnswers.get(key);
  earlyAnswers.delete(key);
  return answer;
}

function apiUrl(path, query) {
  const url = new URL(path.startsWith(`${API_ROOT}/`) ? path : API_ROOT + path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  return url;
}

// api("/beats", {query: {genre: "trap"}}), api("/checkout", {method: "POST", json: {...}}),
// api("/beats", {method: "POST", form: formData}). Returns the parsed JSON (or null for 204).
export async function api(path, options = {}) {
  if ((options.method || "GET") === "GET") {
    const url = apiUrl(path, options.query);
    const answer = takeFirstAnswer(url) ?? takeEarlyAnswer(url);
    if (answer !== undefined) return answer;
  }
  const response = await request(path, options);
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

// A file the API answers with (a CSV, a PDF, a preview) as a Blob, for the page to save or
// play: a plain link cannot send the bearer token. apiFile("/payouts/sales.csv"), or an
// address the API gave: apiFile(beat.preview_url).
export async function apiFile(path, { query, signal } = {}) {
  const response = await request(path, { query, signal, accept: "*/*" });
  return response.blob();
}

// The API's answer, once it is known to be a success; any failure is thrown as an ApiError.
async function request(path, { method = "GET", json, form, query, signal, accept = "application/json" } = {}) {
  const url = apiUrl(path, query);
  const init = { method, headers: headers({ Accept: accept }), signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (cause) {
    if (cause.name === "AbortError") throw cause;
    throw new ApiError(0, "network_error", "The server could not be reached. Check your connection and try again.");
  }
  if (response.status === 401 && token()) {
    setToken(null); // the token expired or was revoked: the visitor is signed out
    forgetUser();
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

// Multipart upload with progress: onProgress(fraction 0..1) while the body is sent.
export function upload(path, form, options) {
  return sendFile(path, form, options).done;
}

// A file sent with progress that can be cancelled: {done (a promise), abort()}. fetch() cannot
// report upload progress, so this uses XMLHttpRequest; an aborted send rejects with an AbortError.
export function sendFile(path, form, { method = "POST", onProgress = () => {} } = {}) {
  const request = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    request.open(method, API_ROOT + path);
    for (const [key, value] of Object.entries(headers())) request.setRequestHeader(key, value);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let body = null;
      try { body = JSON.parse(request.responseText); } catch { /* not JSON */ }
      if (request.status >= 200 && request.status < 300) resolve(body);
      else if (body && body.error) reject(new ApiError(request.status, body.error.code, body.error.message, body.error.details));
      else reject(new ApiError(request.status, "http_" + request.status, `The server answered ${request.status}.`));
    };
    request.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    request.onerror = () => reject(new ApiError(0, "network_error", "The upload was interrupted. Check your connection and try again."));
    request.send(form);
  });
  return { done, abort: () => request.abort() };
}

// The signed-in user ({id, email, display_name, roles, status}) or null, asked once per page load.
let userPromise = null;

export function currentUser() {
  if (!token()) return Promise.resolve(null);
  if (!userPromise) userPromise = api("/me").catch(() => null);
  return userPromise;
}

export function forgetUser() {
  userPromise = null;
}

export function hasRole(user, role) {
  return Boolean(user && user.roles && user.roles.includes(role));
}

export async function signIn(email, password) {
  const answer = await api("/auth/login", { method: "POST", json: { email, password } });
  setToken(answer.access_token);
  forgetUser();
  return currentUser();
}

export async function signOut() {
  try { await api("/auth/logout", { method: "POST" }); } catch { /* already gone: forget it anyway */ }
  setToken(null);
  forgetUser();
}
