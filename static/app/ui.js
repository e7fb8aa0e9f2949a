// Small DOM helpers shared by every page. No framework: elements are built with h().

// h("button", {type: "button", onclick: fn, class: "primary"}, "Buy")
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

// A labelled form field: field("Title", h("input", {name: "title"})). The label wraps the control.
export function field(label, control, hint) {
  return h("label", { class: "field" }, h("span", { class: "field-label" }, label), control,
    hint ? h("small", { class: "hint" }, hint) : null);
}

// "1 play", "2,000 plays", "1 copy" / "3 copies" (given the plural).
export function count(number, singular, plural = `${singular}s`) {
  return `${Number(number).toLocaleString("en")} ${Number(number) === 1 ? singular : plural}`;
}

// "1,000 streams" / "unlimited streams"
export function limit(value, noun) {
  return value === null || value === undefined ? `unlimited ${noun}` : `${Number(value).toLocaleString("en")} ${noun}`;
}

export function duration(milliseconds) {
  if (!milliseconds && milliseconds !== 0) return "";
  const seconds = Math.round(milliseconds / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export function date(iso) {
  return iso ? new Date(iso).toLocaleDateString("en", { year: "numeric", month: "short", day: "numeric" }) : "";
}

export function dateTime(iso) {
  return iso ? new Date(iso).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" }) : "";
}

// An API error (or any error) as a paragraph a person can read, with field messages listed.
export function errorBox(error) {
  const lines = typeof error.fieldMessages === "function" ? error.fieldMessages() : [];
  return h("div", { class: "error", role: "alert" },
    h("p", {}, error.message || String(error)),
    lines.length ? h("ul", {}, lines.map((line) => h("li", {}, line))) : null);
}

// A web address from the API, or null when it is not one (only http: and https: are followed).
export function webUrl(text) {
  try {
    const url = new URL(text, location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

// Hands `blob` to the browser as a download named `name` (a file fetched with apiFile, or made here).
export function saveFile(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000); // once the browser has taken the file
}

export const UNSAFE_LINK = "The server sent a link that is not a web address, so it was not opened. Please try again later.";

// Replaces the contents of `target` with an error box.
export function showError(target, error) {
  target.replaceChildren(errorBox(error));
}

// A short message at the top of the page ("Saved.", "Signed out.").
let noticeTimer = null;
export function notice(message, kind = "info") {
  const box = document.getElementById("notice");
  box.textContent = message;
  box.className = `notice notice-${kind}`;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

// Runs `action` with the button disabled, so a double click never sends twice.
export async function busy(button, action) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// Form values as an object of trimmed strings (files left out).
export function formValues(form) {
  const values = {};
  for (const [key, value] of new FormData(form).entries()) {
    if (typeof value === "string") values[key] = value.trim();
  }
  return values;
}

export function titleCase(text) {
  return String(text || "").replaceAll("_", " ").replace(/^\w/, (letter) => letter.toUpperCase());
}
