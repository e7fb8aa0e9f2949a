// Pieces every admin page shares: the section navigation, words for the API's codes, status
// badges, reason forms with a confirmation step, and "Show more" paging over keyset cursors.

import { api } from "../api.js";
import { busy, errorBox, field, h, notice } from "../ui.js";
import { statusBadge } from "../labels.js";
import { keysetPages } from "../paging.js";
import { serverCodes } from "../codes.js";

const SECTIONS = [
  ["/admin", "Overview"],
  ["/admin/reports", "Reports"],
  ["/admin/review-queue", "Review queue"],
  ["/admin/beats", "Beats"],
  ["/admin/users", "Users"],
  ["/admin/audit-log", "Audit log"],
  ["/admin/payouts", "Payouts"],
  ["/admin/jobs", "Failed jobs"],
  ["/admin/trace", "Leak tracing"],
];

// The admin section links; the section holding the current page is marked current.
export function adminNav() {
  const here = location.pathname;
  const links = SECTIONS.map(([href, label]) => {
    const current = href === here || (href !== "/admin" && here.startsWith(href + "/"));
    return h("a", { href, "aria-current": current ? "page" : null }, label);
  });
  return h("nav", { class: "admin-nav", "aria-label": "Admin sections" }, links);
}

// The page frame: section links, the heading, then the page's parts. The window's title
// names what is shown (a beat's title, an account's name), not only the kind of page.
export function adminPage(root, title, ...parts) {
  document.title = `${title} · Admin · Beat Market`;
  root.replaceChildren(adminNav(), h("h1", {}, title), ...parts);
}

export const REPORT_REASONS = {
  copyright: "Copyright infringement",
  uncleared_sample: "Uncleared sample",
  stolen_beat: "Stolen beat",
  offensive: "Offensive content",
  spam: "Spam",
  fraud: "Fraud",
  other: "Other",
};

export const REPORT_STATUSES = { open: "Open", dismissed: "Dismissed", taken_down: "Beat taken down" };

export const BEAT_STATUSES = {
  processing: "Processing",
  published: "In the store",
  failed: "Processing failed",
  archived: "Archived by its owner",
  taken_down: "Out of the store",
  sold_exclusive: "Sold exclusively",
};

export const SAMPLES = { none: "No samples", cleared: "Samples cleared", uncleared: "Uncleared samples" };

export const HOLD_CAUSES = { takedown: "Taken down", suspension: "Owner suspended", review: "Waiting for review" };

export const AUDIT_ACTIONS = {
  "beat.takedown": "Beat taken down",
  "beat.restore": "Beat restored",
  "beat.approve": "Beat approved",
  "beat.reject": "Beat rejected",
  "beat.review_queued": "Beat held for review",
  "beat.hide_for_suspension": "Beat hidden (owner suspended)",
  "report.dismiss": "Report dismissed",
  "report.takedown": "Report answered by a takedown",
  "license.revoke": "License revoked",
  "user.strike": "Strike recorded",
  "strike.lift": "Strike lifted",
  "user.suspend": "Account suspended",
  "user.auto_suspend": "Account suspended automatically",
  "user.unsuspend": "Suspension lifted",
  "order.refund_request": "Refund requested",
  "order.auto_refund": "Order refunded automatically",
};

const GOOD = new Set(["published", "active", "paid", "dismissed"]);
const BAD = new Set(["taken_down", "suspended", "failed", "open"]);

// The admin pages colour a status by what it asks of a moderator, whatever it is the status of.
export function badge(code, table = {}) {
  return statusBadge(table, code, { className: "admin-badge", tone: GOOD.has(code) ? "ok" : BAD.has(code) ? "bad" : "" });
}

// A filter's <select>: "any" first, then each [code, words] choice (labels.js), the chosen one selected.
export function filterSelect(name, choices, selected, anyLabel) {
  return h("select", { name }, h("option", { value: "" }, anyLabel),
    choices.map(([value, label]) => h("option", { value, selected: value === selected }, label)));
}

// A link to an account's admin page: "Name <email>".
export function accountLink(account) {
  if (!account) return "";
  return h("span", {}, h("a", { href: `/admin/users/${encodeURIComponent(account.id)}` }, account.display_name),
    " ", h("span", { class: "muted" }, account.email));
}

// Answers that name an account by id only (audit entries, transfers) get its name filled in
// once known; each id is asked once per page load.
const accountNames = new Map();

export function userLinkById(userId, placeholder) {
  if (!accountNames.has(userId)) {
    accountNames.set(userId, api(`/admin/users/${encodeURIComponent(userId)}`)
      .then((user) => user.display_name, () => null));
  }
  const link = h("a", { href: `/admin/users/${encodeURIComponent(userId)}` }, placeholder);
  accountNames.get(userId).then((name) => { if (name) link.textContent = name; });
  return link;
}

export function beatLink(beat) {
  return h("a", { href: `/admin/beats/${encodeURIComponent(beat.id)}` }, beat.title);
}

// A table under its column headings, scrolling sideways on a narrow screen; `body` is its <tbody>.
export function scrollTable(headings, body, className) {
  return h("div", { class: "table-scroll" }, h("table", { class: className },
    h("thead", {}, h("tr", {}, headings.map((label) => h("th", { scope: "col" }, label)))), body));
}

// A "Retry" button for a row that failed: `retry()` asks the API again and says how it went;
// a refusal is shown in `errors`.
export function retryButton(ariaLabel, errors, retry) {
  const button = h("button", { type: "button", "aria-label": ariaLabel }, "Retry");
  button.addEventListener("click", () => busy(button, async () => {
    errors.replaceChildren();
    try {
      await retry();
    } catch (error) {
      errors.replaceChildren(errorBox(error));
    }
  }));
  return button;
}

// A <dl> from [term, value] pairs, skipping empty values.
export function terms(pairs) {
  const shown = pairs.filter(([, value]) => value !== undefined && value !== null && value !== "");
  return h("dl", { class: "terms admin-terms" }, shown.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

// Asks before a destructive step, in a modal dialog; resolves true when confirmed.
export function confirmStep({ title, body, confirmLabel }) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "admin-confirm", "aria-labelledby": "confirm-title" });
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.append(
      h("h2", { id: "confirm-title" }, title),
      ...[body].flat().map((paragraph) => h("p", {}, paragraph)),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "danger", onclick: () => finish(true) }, confirmLabel),
        h("button", { type: "button", onclick: () => finish(false) }, "Cancel")));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); finish(false); });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("button:last-child").focus(); // the safe answer has the focus
  });
}

// A form asking for a reason before an action. `confirm` ({title, body, confirmLabel}) adds a
// confirmation step. `act({reason})` calls the API; `done(answer)` shows the result.
export function reasonForm({ legend, label = "Reason", hint, required = true, submitLabel, danger = false,
  confirm, act, done }) {
  const errors = h("div");
  const reason = h("textarea", { name: "reason", required, maxlength: 500, rows: 3 });
  const submit = h("button", { type: "submit", class: danger ? "danger" : "primary" }, submitLabel);
  const form = h("form", { class: "reason-form" },
    h("fieldset", {}, h("legend", {}, legend), errors, field(label, reason, hint), submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      errors.replaceChildren();
      const values = { reason: reason.value.trim() };
      if (required && !values.reason) {
        errors.replaceChildren(errorBox(new Error("Give a reason: the person affected is told it.")));
        reason.focus();
        return;
      }
      if (confirm && !(await confirmStep(confirm))) return;
      try {
        const answer = await act(values);
        form.reset();
        await done(answer);
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    });
  });
  return form;
}

// A filter form that, when sent, opens `path` with the fields that were filled in, so the
// filtered list has an address of its own (reload, Back and sharing keep it).
export function filtersToAddress(form, path, navigate) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const filled = [...new FormData(form)].map(([name, value]) => [name, value.trim()]).filter(([, value]) => value);
    navigate(`${path}?${new URLSearchParams(filled)}`);
  });
  return form;
}

// A list that grows by pages: `load(cursor)` answers {items, next_cursor}; `render(items)`
// answers the nodes to append to `container`, shown inside `frame` (a table around its tbody);
// `nouns` is [one, many]. Answers {element, reload}.
export function pagedList({ container, frame = container, load, render, empty, nouns }) {
  const status = h("p", { class: "muted", role: "status" });
  const more = h("button", { type: "button", hidden: true }, "Show more");
  const errors = h("div");
  let shown = 0;
  const pages = keysetPages({
    more,
    load: (cursor) => {
      errors.replaceChildren();
      return load(cursor);
    },
    show: (items, first) => {
      if (first) { container.replaceChildren(); shown = 0; }
      shown += items.length;
      container.append(...[render(items)].flat());
      frame.hidden = shown === 0; // no empty table under "No … match"
      status.textContent = shown === 0 ? empty
        : `Showing ${shown} ${shown === 1 ? nouns[0] : nouns[1]}${pages.hasMore() ? "; more below" : ""}.`;
    },
    fail: (error) => errors.replaceChildren(errorBox(error)),
  });
  const element = h("div", { class: "paged" }, errors, status, frame, h("div", { class: "actions" }, more));
  return { element, reload: pages.reload };
}

// A filtered list's page: the list's first page loads while the API's codes arrive for
// `filterForm(codes)`; `before` are the parts above the filters.
export async function filteredListPage(root, title, { list, filterForm, before = [] }) {
  const loading = list.reload();
  const filters = filterForm(await serverCodes());
  adminPage(root, title, ...before, filters, list.element);
  await loading;
}

// Counts rows by paging through a listing, up to `cap` ("200+" beyond it).
export async function countOf(path, query, cap = 200) {
  const page = await api(path, { query: { ...query, limit: cap } });
  return page.next_cursor ? `${cap}+` : String(page.items.length);
}

// Says how an action went, then re-renders the page with `after`. The form that had the
// focus is gone then, so the focus goes back to the top of the page (as after navigating).
export async function announce(message, after) {
  notice(message);
  await after();
  document.getElementById("main").focus({ preventScroll: true });
}
