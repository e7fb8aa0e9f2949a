// Pieces every studio page shares: the studio's own navigation, status badges, percentages
// typed as shares, and API errors placed next to the fields they are about.

import { api } from "../api.js";
import { h, errorBox } from "../ui.js";
import { statusBadge as beatBadge, words } from "../labels.js";

const SECTIONS = [
  ["/studio", "Beats"],
  ["/studio/upload", "Upload"],
  ["/studio/voice-tag", "Voice tag"],
  ["/studio/tiers", "License tiers"],
  ["/studio/sales", "Sales"],
  ["/studio/stats", "Statistics"],
  ["/studio/deals", "Deals"],
  ["/studio/offers", "Offers"],
];

export function studioNav() {
  return h("nav", { class: "studio-nav", "aria-label": "Studio" },
    SECTIONS.map(([path, label]) => h("a", { href: path, "aria-current": location.pathname === path ? "page" : null }, label)));
}

// A studio page: the studio's navigation, the page's one <h1> (with `actions` beside it),
// then its content.
export function studioPage({ title, actions = [] }, ...content) {
  return h("div", { class: "studio" }, studioNav(), h("div", { class: "studio-title" }, h("h1", {}, title), ...actions), ...content);
}

const STATUS_WORDS = {
  processing: ["Processing", ""],
  published: ["Published", "ok"],
  failed: ["Failed", "bad"],
  archived: ["Archived", ""],
  taken_down: ["Taken down", "bad"],
  sold_exclusive: ["Sold exclusive", "ok"],
};

export function statusLabel(status) {
  return words(STATUS_WORDS, status);
}

export function statusBadge(status) {
  return beatBadge(STATUS_WORDS, status, { className: "status-badge" });
}

// What the badge means for the beatmaker, in a sentence (or null when nothing needs saying).
export function statusExplanation(beat) {
  switch (beat.status) {
    case "processing": return "The preview is being rendered; the beat is published when it is ready.";
    case "failed": return `Processing failed: ${beat.failure_reason || "no reason was given"}`;
    case "archived": return "Archived: out of the store. Licenses already sold stay valid.";
    case "taken_down": return "Taken down by moderation: out of the store until a moderator restores it.";
    case "sold_exclusive": return "The exclusive rights were sold: the beat can no longer be bought.";
    default: return null;
  }
}

// Percent ("12.5") to basis points (1250) and back; blank means "not set" (null).
export function percentToBps(text) {
  const trimmed = String(text ?? "").trim();
  if (trimmed === "") return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? Math.round(value * 100) : NaN;
}

export function bpsToPercent(bps) {
  return bps === null || bps === undefined ? "" : String(bps / 100);
}

// An API error's messages by field: {"bpm": ["..."], "0.name": ["..."]}. Upload checks answer
// {"field": "file"} with the message in the error itself; 422s list messages per field.
export function messagesByField(error) {
  const details = (error && error.details) || {};
  if (typeof details.field === "string") return { [details.field]: [error.message] };
  const found = {};
  const walk = (value, path) => {
    if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
      found[path] = (found[path] || []).concat(value);
    } else if (typeof value === "string") {
      found[path] = (found[path] || []).concat([value]);
    } else if (value && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) {
        const skip = ["json", "form", "files", "query", "form_and_files"].includes(key);
        walk(inner, skip ? path : (path ? `${path}.${key}` : key));
      }
    }
  };
  walk(details.fields ?? details, "");
  return found;
}

// Shows `error` for `form`: each field's messages under that field (found by name, or by
// controls[name] when given), the error's message and any other messages in `summary`.
export function showFormError(form, summary, error, controls = {}) {
  clearFieldErrors(form);
  const leftOver = [];
  for (const [name, messages] of Object.entries(messagesByField(error))) {
    const control = controls[name] || (name && form.querySelector(`[name="${CSS.escape(name)}"]`));
    if (control) markInvalid(control, messages);
    else leftOver.push(...messages.filter((message) => message !== error.message).map((message) => labelled(name, message)));
  }
  summary.replaceChildren(errorBoxWith(error.message, leftOver));
  const first = form.querySelector("[aria-invalid=true]");
  if (first) first.focus();
}

// "Profit share: ..." for a message about a field no control stands for.
function labelled(name, message) {
  if (!name || name === "credits") return message;
  const words = name.replace(/_bps$/, "").replaceAll("_", " ").replaceAll(".", " ");
  return `${words.replace(/^\w/, (letter) => letter.toUpperCase())}: ${message}`;
}

function errorBoxWith(message, lines) {
  const box = errorBox({ message });
  if (lines.length) box.append(h("ul", {}, lines.map((line) => h("li", {}, line))));
  return box;
}

let errorIds = 0;

export function markInvalid(control, messages) {
  const id = `studio-field-error-${++errorIds}`;
  const message = h("p", { class: "studio-field-error", id }, messages.join(" "));
  control.setAttribute("aria-invalid", "true");
  control.setAttribute("aria-describedby", id);
  (control.closest(".field, .choice") || control).after(message);
}

export function clearFieldErrors(form) {
  for (const message of form.querySelectorAll(".studio-field-error")) message.remove();
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
    control.removeAttribute("aria-describedby");
  }
}

// Runs `action`; if it fails, the error is shown in words in `box` (emptied first).
export async function attempt(box, action) {
  box.replaceChildren();
  try {
    await action();
  } catch (error) {
    box.replaceChildren(errorBox(error));
  }
}

// A status line read out by screen readers when it changes.
export function statusLine(className = "status-line") {
  return h("p", { class: className, role: "status", "aria-live": "polite" });
}

// Why each of the beatmaker's taken-down beats is out of the store: {beat_id: ["..."]}.
export async function holdsByBeat() {
  const standing = await api("/me/moderation");
  const byBeat = {};
  for (const hold of standing.held_beats) (byBeat[hold.beat_id] ||= []).push(holdInWords(hold));
  return byBeat;
}

function holdInWords(hold) {
  if (hold.cause === "review") {
    return hold.review === "rejected" ? `Rejected in review${hold.note ? `: ${hold.note}` : "."}`
      : "Waiting for a moderator's review before it goes into the store.";
  }
  if (hold.cause === "suspension") return "Held while your account is suspended.";
  return `Taken down: ${hold.reason}`;
}
