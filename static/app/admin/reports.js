// /admin/reports: the queue of reports, oldest first, filtered by status and reason.
// /admin/reports/:id: one report, with the beat's preview to listen to, answered by dismissing
// it or taking the beat down.

import { api } from "../api.js";
import { busy, date, dateTime, errorBox, field, h } from "../ui.js";
import { choices, words } from "../labels.js";
import {
  BEAT_STATUSES, REPORT_REASONS, REPORT_STATUSES, SAMPLES, accountLink, adminPage, announce, badge, beatLink,
  confirmStep, filteredListPage, filterSelect, pagedList, terms,
} from "./common.js";
import { reportPreview } from "./preview.js";

function reportCard(report) {
  return h("li", { class: "card" },
    h("h2", {}, h("a", { href: `/admin/reports/${encodeURIComponent(report.id)}` },
      `${words(REPORT_REASONS, report.reason)}: ${report.beat.title}`)),
    terms([
      ["Status", badge(report.status, REPORT_STATUSES)],
      ["Beat", h("span", {}, beatLink(report.beat), " · ",
        h("a", { href: `/beats/${encodeURIComponent(report.beat.id)}` }, "public page"))],
      ["Beatmaker", accountLink(report.beat.beatmaker)],
      ["Reported by", accountLink(report.reporter)],
      ["Filed", date(report.created_at)],
      ["Details", report.details || h("span", { class: "muted" }, "None given")],
    ]));
}

export async function reportsView({ root, query, navigate }) {
  const status = query.has("status") ? query.get("status") : "open";
  const reason = query.get("reason") || "";
  const list = pagedList({
    container: h("ul", { class: "admin-list" }),
    load: (cursor) => api("/admin/reports", { query: { status, reason, cursor } }),
    render: (items) => items.map(reportCard),
    empty: status === "open" ? "No open reports: the queue is empty." : "No reports match.",
    nouns: ["report", "reports"],
  });
  const filterForm = (codes) => {
    const filters = h("form", { class: "row admin-filters", role: "search", "aria-label": "Filter reports" },
      field("Status", filterSelect("status", choices(codes.report_statuses, REPORT_STATUSES), status, "Any status")),
      field("Reason", filterSelect("reason", choices(codes.report_reasons, REPORT_REASONS), reason, "Any reason")),
      h("button", { type: "submit" }, "Filter"));
    // Sent with its blanks: "Any status" is status= in the address, as no status there means the open ones.
    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      navigate(`/admin/reports?${new URLSearchParams(new FormData(filters))}`);
    });
    return filters;
  };
  await filteredListPage(root, "Reports", { list, filterForm,
    before: [h("p", { class: "muted" }, "Oldest first, the order they are worked through.")] });
}

function resolveForm(report, rerender) {
  const errors = h("div");
  const note = h("textarea", { name: "note", required: true, maxlength: 500, rows: 3 });
  const choice = (value, label, checked) => h("label", { class: "choice" },
    h("input", { type: "radio", name: "action", value, checked }), " ", label);
  const submit = h("button", { type: "submit", class: "primary" }, "Resolve report");
  const form = h("form", { class: "card admin-card", "aria-labelledby": "resolve-title" },
    h("h2", { id: "resolve-title" }, "Resolve"),
    errors,
    h("fieldset", {}, h("legend", {}, "Decision"),
      choice("dismiss", "Dismiss: the beat stays in the store", true),
      choice("takedown", "Take the beat down: it leaves the store at once, every open report on it is answered")),
    field("Note", note, "Required. For a takedown this is the reason the beatmaker is given."),
    submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const action = form.elements.action.value;
    busy(submit, async () => {
      errors.replaceChildren();
      if (action === "takedown" && !(await confirmStep({
        title: `Take "${report.beat.title}" down?`,
        body: ["It leaves the store at once: no listing, no previews, no sales. Licenses already sold stay valid.",
          "The beatmaker is told your note as the reason, and every open report on the beat is answered."],
        confirmLabel: "Take it down",
      }))) return;
      try {
        await api(`/admin/reports/${encodeURIComponent(report.id)}/resolve`,
          { method: "POST", json: { action, note: note.value.trim() } });
        await announce(action === "takedown" ? `"${report.beat.title}" was taken down.` : "The report was dismissed.",
          rerender);
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    });
  });
  return form;
}

export async function reportView({ root, params }) {
  let preview = null;
  const render = async () => {
    const report = await api(`/admin/reports/${encodeURIComponent(params.id)}`);
    const beat = report.beat;
    if (preview) preview.stop();
    preview = reportPreview(beat);
    adminPage(root, `Report: ${words(REPORT_REASONS, report.reason)}`,
      h("section", { class: "card admin-card", "aria-labelledby": "report-title" },
        h("h2", { id: "report-title" }, "The report"),
        terms([
          ["Status", badge(report.status, REPORT_STATUSES)],
          ["Reason", words(REPORT_REASONS, report.reason)],
          ["Details", report.details || h("span", { class: "muted" }, "None given")],
          ["Reported by", accountLink(report.reporter)],
          ["Filed", dateTime(report.created_at)],
          ["Resolved", report.resolved_at ? dateTime(report.resolved_at) : null],
          ["Note", report.resolution_note],
        ])),
      h("section", { class: "card admin-card", "aria-labelledby": "beat-title" },
        h("h2", { id: "beat-title" }, "The beat"),
        terms([
          ["Title", beatLink(beat)],
          ["Status", badge(beat.status, BEAT_STATUSES)],
          ["Samples", words(SAMPLES, beat.samples)],
          ["Beatmaker", accountLink(beat.beatmaker)],
        ]),
        h("h3", {}, "Listen"),
        preview.element,
        h("p", {}, h("a", { href: `/admin/beats/${encodeURIComponent(beat.id)}` }, "Beat's admin page"), " · ",
          h("a", { href: `/beats/${encodeURIComponent(beat.id)}` }, "Public page"))),
      report.status === "open" ? resolveForm(report, render)
        : h("p", { class: "muted" }, "This report is resolved."),
      h("p", {}, h("a", { href: "/admin/reports" }, "Back to the open reports")));
  };
  await render();
  return () => preview && preview.stop();
}
