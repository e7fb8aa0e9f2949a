// The API's codes (statuses, roles, reasons) in the words a page shows. Each page keeps its
// own table, since a buyer and an admin read the same status differently; an entry is the
// words, or [words, tone] where the tone ("ok", "bad", "wait") colours the badge. A code the
// table lacks (one a newer server added) is made readable rather than hidden.

import { h, titleCase } from "./ui.js";

// [words, tone] of `code` in `table`.
export function label(table, code) {
  const entry = table[code];
  if (entry === undefined) return [titleCase(code), ""];
  return Array.isArray(entry) ? [entry[0], entry[1] || ""] : [entry, ""];
}

export function words(table, code) {
  return label(table, code)[0];
}

// A status as a badge: `className` adds classes, `tone` and `text` replace the table's, and
// `dataset` names the code for scripts and tests (data-status by default).
export function statusBadge(table, code, { className = "", tone, text, dataset = { status: code } } = {}) {
  const [shown, ownTone] = label(table, code);
  return h("span", { class: ["badge", className, tone ?? ownTone].filter(Boolean).join(" "), dataset }, text ?? shown);
}

// The choices of a <select> from the codes the API lists (see codes.js): [code, words] pairs.
export function choices(codes, table) {
  return codes.map((code) => [code, words(table, code)]);
}
