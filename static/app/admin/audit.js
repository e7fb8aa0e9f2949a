// /admin/audit-log: every moderation action, newest first, filtered, paged, and exported as
// CSV. The export needs the bearer token, so it is fetched and handed over as a download.

import { api, apiFile } from "../api.js";
import { busy, dateTime, errorBox, field, h, notice, saveFile } from "../ui.js";
import { words } from "../labels.js";
import {
  AUDIT_ACTIONS, adminPage, filterSelect, filtersToAddress, pagedList, scrollTable, userLinkById,
} from "./common.js";

const FILTERS = ["action", "actor_kind", "actor_id", "target_type", "target_id", "since", "until"];
const ACTOR_KINDS = { admin: "An admin", system: "Automatic", cli: "An operator (command line)" };
const TARGET_PAGES = { beat: "/admin/beats/", user: "/admin/users/", report: "/admin/reports/" };

// What was acted on by name (a beat's title, an account's name and email, the beat a report
// is about), with its type and id below for those who search by id.
function targetCell(entry) {
  const page = TARGET_PAGES[entry.target_type];
  const id = `${entry.target_type} ${entry.target_id}`;
  const name = entry.target_type === "report" && entry.target_name
    ? `Report on “${entry.target_name}”` : entry.target_name;
  const label = name || id;
  return [
    page ? h("a", { href: page + encodeURIComponent(entry.target_id) }, label) : label,
    entry.target_email ? h("span", { class: "muted" }, ` ${entry.target_email}`) : null,
    name ? h("small", { class: "muted admin-audit-id" }, id) : null,
  ];
}

function actorCell(entry) {
  if (entry.actor_kind !== "admin" || !entry.actor_id) return words(ACTOR_KINDS, entry.actor_kind);
  if (!entry.actor_name) return userLinkById(entry.actor_id, "Admin"); // an account since erased
  return [h("a", { href: `/admin/users/${encodeURIComponent(entry.actor_id)}` }, entry.actor_name),
    h("span", { class: "muted" }, ` ${entry.actor_email}`)];
}

// What changed, for those who want the detail, folded away.
function changeCell(entry) {
  return h("details", {}, h("summary", {}, "Before and after"),
    h("pre", { class: "admin-audit-json" }, `before: ${JSON.stringify(entry.before, null, 1)}\nafter: ${JSON.stringify(entry.after, null, 1)}`));
}

export function auditRow(entry) {
  return h("tr", {},
    h("td", {}, dateTime(entry.created_at)),
    h("td", {}, words(AUDIT_ACTIONS, entry.action)),
    h("td", {}, targetCell(entry)),
    h("td", {}, actorCell(entry)),
    h("td", {}, entry.reason || h("span", { class: "muted" }, "None")),
    h("td", {}, changeCell(entry)));
}

function tableOf(body) {
  return scrollTable(["When", "Action", "On", "By", "Reason", "Change"], body, "admin-audit");
}

export function auditTable(entries) {
  return tableOf(h("tbody", {}, entries.map(auditRow)));
}

// A beat's or an account's moderation history on its admin page, with a link to all of it.
export function historySection(targetType, targetId, entries) {
  const everything = `/admin/audit-log?target_type=${targetType}&target_id=${encodeURIComponent(targetId)}`;
  return h("section", { "aria-labelledby": "history-title" },
    h("h2", { id: "history-title" }, "History"),
    entries.length ? auditTable(entries) : h("p", { class: "muted" }, "No moderation actions yet."),
    h("p", {}, h("a", { href: everything }, "Full history in the audit log")));
}

// <input type="date"> answers "2026-12-05"; the API wants a time with its zone. A day starts
// at midnight UTC, and `until` takes the whole chosen day.
function dayToIso(day, endOfDay) {
  if (!day) return "";
  const start = new Date(`${day}T00:00:00Z`);
  if (endOfDay) start.setUTCDate(start.getUTCDate() + 1);
  return start.toISOString();
}

function apiFilters(query) {
  const chosen = {};
  for (const name of FILTERS) {
    const value = query.get(name);
    if (value) chosen[name] = name === "since" || name === "until" ? dayToIso(value, name === "until") : value;
  }
  return chosen;
}

async function downloadCsv(filters) {
  saveFile(await apiFile("/admin/audit-log.csv", { query: filters }), "audit-log.csv");
}

function filterForm(query, navigate) {
  const value = (name) => query.get(name) || "";
  const form = h("form", { class: "row admin-filters", role: "search", "aria-label": "Filter the audit log" },
    field("Action", filterSelect("action", Object.entries(AUDIT_ACTIONS), value("action"), "Any action")),
    field("By", filterSelect("actor_kind", Object.entries(ACTOR_KINDS), value("actor_kind"), "Anyone")),
    field("On (type)", filterSelect("target_type", ["beat", "user", "report", "license", "order"].map((type) => [type, type]),
      value("target_type"), "Anything")),
    field("On (id)", h("input", { name: "target_id", value: value("target_id"), maxlength: 64 })),
    field("From", h("input", { name: "since", type: "date", value: value("since") })),
    field("To", h("input", { name: "until", type: "date", value: value("until") })),
    value("actor_id") ? h("input", { type: "hidden", name: "actor_id", value: value("actor_id") }) : null,
    h("button", { type: "submit" }, "Filter"));
  return filtersToAddress(form, "/admin/audit-log", navigate);
}

export async function auditView({ root, query, navigate }) {
  const filters = apiFilters(query);
  const body = h("tbody");
  const list = pagedList({
    container: body,
    frame: tableOf(body),
    load: (cursor) => api("/admin/audit-log", { query: { ...filters, cursor, limit: 50 } }),
    render: (items) => items.map(auditRow),
    empty: "No entries match.",
    nouns: ["entry", "entries"],
  });
  const exportErrors = h("div");
  const exportButton = h("button", { type: "button" }, "Download CSV");
  exportButton.addEventListener("click", () => busy(exportButton, async () => {
    exportErrors.replaceChildren();
    try {
      await downloadCsv(filters);
      notice("The audit log was downloaded as CSV.");
    } catch (error) {
      exportErrors.replaceChildren(errorBox(error));
    }
  }));
  adminPage(root, "Audit log",
    h("p", { class: "muted" }, "Every moderation action, admin or automatic, newest first. Entries are never changed."),
    filterForm(query, navigate),
    h("div", { class: "actions" }, exportButton, h("span", { class: "muted" }, "The CSV holds the entries matching the filters, oldest first.")),
    exportErrors,
    list.element);
  await list.reload();
}
