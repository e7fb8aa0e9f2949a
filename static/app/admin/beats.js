// /admin/beats: beats in any status, newest first, filtered by status, samples and hold.
// /admin/beats/:id: one beat, what holds it out of the store, its reports and history; take
// down, restore, approve or reject a review, revoke its licenses.

import { api } from "../api.js";
import { date, dateTime, field, h } from "../ui.js";
import { choices, words } from "../labels.js";
import {
  BEAT_STATUSES, HOLD_CAUSES, REPORT_REASONS, REPORT_STATUSES, SAMPLES, accountLink, adminPage, announce, badge,
  beatLink, filteredListPage, filterSelect, filtersToAddress, pagedList, reasonForm, scrollTable, terms,
} from "./common.js";
import { historySection } from "./audit.js";

export function holdsText(beat) {
  if (!beat.held_by.length) return h("span", { class: "muted" }, "Nothing");
  return h("ul", { class: "admin-list" }, beat.held_by.map((hold) => h("li", {},
    h("strong", {}, hold.review === "rejected" ? "Review rejected" : words(HOLD_CAUSES, hold.cause)),
    ` since ${date(hold.since)}: ${hold.reason}`, hold.note ? ` (${hold.note})` : "")));
}

function beatRow(beat) {
  return h("tr", {},
    h("td", {}, beatLink(beat)),
    h("td", {}, badge(beat.status, BEAT_STATUSES)),
    h("td", {}, accountLink(beat.beatmaker)),
    h("td", {}, words(SAMPLES, beat.samples)),
    h("td", {}, holdsText(beat)),
    h("td", {}, date(beat.created_at)));
}

export async function beatsView({ root, query, navigate }) {
  const chosen = Object.fromEntries(["q", "status", "samples", "held", "beatmaker"].map((name) => [name, query.get(name) || ""]));
  const body = h("tbody");
  const list = pagedList({
    container: body,
    frame: scrollTable(["Title", "Status", "Beatmaker", "Samples", "Held out by", "Uploaded"], body),
    load: (cursor) => api("/admin/beats", { query: { ...chosen, cursor } }),
    render: (items) => items.map(beatRow),
    empty: "No beats match.",
    nouns: ["beat", "beats"],
  });
  const filterForm = (codes) => filtersToAddress(h("form", { class: "row admin-filters", role: "search", "aria-label": "Find beats" },
    field("Title", h("input", { name: "q", type: "search", value: chosen.q, maxlength: 120 }), "Any part of it."),
    field("Status", filterSelect("status", choices(codes.beat_statuses, BEAT_STATUSES), chosen.status, "Any status")),
    field("Samples", filterSelect("samples", choices(codes.samples, SAMPLES), chosen.samples, "Any")),
    field("Held out by", filterSelect("held", choices(codes.hold_causes, HOLD_CAUSES), chosen.held, "Anything or nothing")),
    chosen.beatmaker ? h("input", { type: "hidden", name: "beatmaker", value: chosen.beatmaker }) : null,
    h("button", { type: "submit", class: "primary" }, "Search")), "/admin/beats", navigate);
  await filteredListPage(root, "Beats", { list, filterForm, before: [h("p", { class: "muted" }, "Newest first, in any status."),
    chosen.beatmaker ? h("p", {}, "Only one beatmaker's beats. ", h("a", { href: "/admin/beats" }, "Show every beat")) : null] });
}

function reportItem(report) {
  return h("li", {},
    h("a", { href: `/admin/reports/${encodeURIComponent(report.id)}` }, words(REPORT_REASONS, report.reason)),
    " ", badge(report.status, REPORT_STATUSES), ` ${date(report.created_at)}, by `, accountLink(report.reporter),
    report.details ? h("p", { class: "muted" }, report.details) : null);
}

function revocationSummary(result) {
  return h("div", { class: "card", role: "status" },
    h("h3", {}, "Licenses revoked"),
    terms([
      ["Revoked", String(result.revoked.length)],
      ["Orders refunded", result.refunds_requested.length ? result.refunds_requested.join(", ") : "None"],
      ["Of which lines", result.lines_refunded.length ? result.lines_refunded.join(", ") : "None"],
      ["To refund by hand", result.refund_by_hand.length ? result.refund_by_hand.join(", ") : "None"],
    ]));
}

// The actions that make sense for the beat as it stands; the API refuses the others anyway.
function beatActions(beat, rerender, showResult) {
  const path = `/admin/beats/${encodeURIComponent(beat.id)}`;
  const takenDown = beat.held_by.some((hold) => hold.cause === "takedown");
  const review = beat.held_by.find((hold) => hold.cause === "review");
  const post = (action, json) => api(`${path}/${action}`, { method: "POST", json });
  const forms = [];
  if (review) {
    forms.push(reasonForm({
      legend: "Approve the upload", label: "Note", required: false, hint: "Optional, kept in the audit log.",
      submitLabel: "Approve", act: ({ reason }) => post("approve", { reason: reason || null }),
      done: () => announce(`"${beat.title}" was approved.`, rerender),
    }));
    if (review.review === "pending") {
      forms.push(reasonForm({
        legend: "Reject the upload", hint: "Required. The beatmaker is told it.", submitLabel: "Reject", danger: true,
        confirm: { title: `Reject "${beat.title}"?`, body: "It stays out of the store and its owner is told your reason.",
          confirmLabel: "Reject it" },
        act: ({ reason }) => post("reject", { reason }),
        done: () => announce(`"${beat.title}" was rejected.`, rerender),
      }));
    }
  }
  if (takenDown || (beat.status === "taken_down" && !beat.held_by.length)) {
    forms.push(reasonForm({
      legend: "Restore", label: "Note", required: false, hint: "Optional, kept in the audit log.",
      submitLabel: "Restore", act: ({ reason }) => post("restore", { reason: reason || null }),
      done: (answer) => announce(answer.status === "taken_down"
        ? `The takedown was lifted, but "${beat.title}" stays out of the store for another reason.`
        : `"${beat.title}" is back in the store.`, rerender),
    }));
  } else if (["published", "sold_exclusive", "archived", "taken_down"].includes(beat.status)) {
    forms.push(reasonForm({
      legend: "Take down", hint: "Required. The beatmaker is told it.", submitLabel: "Take down", danger: true,
      confirm: { title: `Take "${beat.title}" down?`,
        body: ["It leaves the store at once: no listing, no previews, no sales. Licenses already sold stay valid.",
          "Every open report on the beat is answered, and the beatmaker is told your reason."],
        confirmLabel: "Take it down" },
      act: ({ reason }) => post("takedown", { reason }),
      done: () => announce(`"${beat.title}" was taken down.`, rerender),
    }));
  }
  forms.push(reasonForm({
    legend: "Revoke licenses", hint: "Required. Buyers are told it.", submitLabel: "Revoke licenses", danger: true,
    confirm: { title: `Revoke every license of "${beat.title}"?`,
      body: ["Every active license of this beat stops at once: its buyers may no longer use the beat.",
        "Orders that paid only for this beat are refunded in full; orders that also paid for other beats are listed for a refund by hand.",
        "This cannot be undone."],
      confirmLabel: "Revoke and refund" },
    act: ({ reason }) => post("revoke-licenses", { reason }),
    done: (result) => announce(`${result.revoked.length} license${result.revoked.length === 1 ? "" : "s"} revoked.`,
      async () => { await rerender(); showResult(revocationSummary(result)); }),
  }));
  return forms;
}

export async function beatView({ root, params }) {
  const path = `/admin/beats/${encodeURIComponent(params.id)}`;
  const result = h("div");
  const render = async () => {
    const [beat, reports, history] = await Promise.all([
      api(path),
      api("/admin/reports", { query: { beat_id: params.id, limit: 200 } }),
      api("/admin/audit-log", { query: { target_type: "beat", target_id: params.id, limit: 20 } }),
    ]);
    result.replaceChildren();
    adminPage(root, beat.title,
      h("section", { class: "card admin-card", "aria-labelledby": "state-title" },
        h("h2", { id: "state-title" }, "State"),
        terms([
          ["Status", badge(beat.status, BEAT_STATUSES)],
          ["Held out by", holdsText(beat)],
          ["Beatmaker", h("span", {}, accountLink(beat.beatmaker), " · ",
            h("a", { href: `/admin/users/${encodeURIComponent(beat.beatmaker.id)}` }, "owner's admin page"))],
          ["Samples", words(SAMPLES, beat.samples)],
          ["Uploaded", dateTime(beat.created_at)],
          ["Published", beat.published_at ? dateTime(beat.published_at) : null],
        ]),
        h("p", {}, h("a", { href: `/beats/${encodeURIComponent(beat.id)}` }, "Public page"))),
      result,
      h("section", { "aria-labelledby": "actions-title" },
        h("h2", { id: "actions-title" }, "Actions"),
        h("div", { class: "admin-actions" }, beatActions(beat, render, (node) => result.replaceChildren(node)))),
      h("section", { "aria-labelledby": "reports-title" },
        h("h2", { id: "reports-title" }, `Reports (${reports.items.length}${reports.next_cursor ? "+" : ""})`),
        reports.items.length ? h("div", { class: "card" }, h("ul", { class: "admin-list" }, reports.items.map(reportItem)))
          : h("p", { class: "muted" }, "No reports on this beat.")),
      historySection("beat", beat.id, history.items));
  };
  await render();
}
