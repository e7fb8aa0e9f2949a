// /admin/users: find an account by part of its email or name, or by status and role.
// /admin/users/:id: its standing (status, strikes), strike, lift a strike, suspend, unsuspend.

import { api } from "../api.js";
import { date, dateTime, field, h, titleCase } from "../ui.js";
import { choices } from "../labels.js";
import {
  BEAT_STATUSES, adminPage, announce, badge, beatLink, filteredListPage, filterSelect, filtersToAddress, pagedList,
  reasonForm, scrollTable, terms,
} from "./common.js";
import { historySection } from "./audit.js";
import { holdsText } from "./beats.js";

const STATUSES = { active: "Active", suspended: "Suspended" };
const ROLES = { artist: "Artist", beatmaker: "Beatmaker", admin: "Admin" };

function userRow(user) {
  return h("tr", {},
    h("td", {}, h("a", { href: `/admin/users/${encodeURIComponent(user.id)}` }, user.display_name)),
    h("td", {}, user.email),
    h("td", {}, user.roles.map(titleCase).join(", ")),
    h("td", {}, badge(user.status, STATUSES)),
    h("td", {}, date(user.created_at)));
}

export async function usersView({ root, query, navigate }) {
  const chosen = { q: query.get("q") || "", status: query.get("status") || "", role: query.get("role") || "" };
  const body = h("tbody");
  const list = pagedList({
    container: body,
    frame: scrollTable(["Name", "Email", "Roles", "Status", "Joined"], body),
    load: (cursor) => api("/admin/users", { query: { ...chosen, cursor } }),
    render: (items) => items.map(userRow),
    empty: "No accounts match.",
    nouns: ["account", "accounts"],
  });
  const filterForm = (codes) => filtersToAddress(h("form", { class: "row admin-filters", role: "search", "aria-label": "Find accounts" },
    field("Email or name", h("input", { name: "q", type: "search", value: chosen.q, maxlength: 254 }),
      "Any part of it, in any case."),
    field("Status", filterSelect("status", choices(codes.user_statuses, STATUSES), chosen.status, "Any status")),
    field("Role", filterSelect("role", choices(codes.roles, ROLES), chosen.role, "Any role")),
    h("button", { type: "submit", class: "primary" }, "Search")), "/admin/users", navigate);
  await filteredListPage(root, "Users", { list, filterForm });
}

function strikeItem(strike, rerender) {
  const lift = strike.active ? reasonForm({
    legend: "Lift the strike", hint: "Required. The account holder is told the strike was lifted.",
    submitLabel: "Lift strike", act: ({ reason }) => api(`/admin/strikes/${encodeURIComponent(strike.id)}/lift`,
      { method: "POST", json: { reason } }),
    done: () => announce("The strike was lifted.", rerender),
  }) : null;
  return h("li", { class: "card admin-strike" },
    h("p", {}, h("strong", {}, strike.reason)),
    terms([
      ["Recorded", dateTime(strike.created_at)],
      ["State", strike.active ? badge("active", { active: "Counts" }) : `Lifted ${dateTime(strike.lifted_at)}`],
      ["Lifted because", strike.lift_reason],
    ]),
    lift ? h("details", {}, h("summary", {}, "Lift this strike"), lift) : null);
}

function standingActions(user, rerender) {
  if (user.roles.includes("admin")) {
    return [h("p", { class: "muted" }, "Administrators are not struck or suspended here; operators manage them.")];
  }
  const post = (action, json) => api(`/admin/users/${encodeURIComponent(user.id)}/${action}`, { method: "POST", json });
  const next = user.active_strikes + 1;
  const strike = reasonForm({
    legend: "Add a strike", hint: "Required. The account holder is told it.", submitLabel: "Add strike", danger: true,
    confirm: next >= user.strikes_to_suspend && user.status === "active" ? {
      title: `Strike ${user.display_name} and suspend the account?`,
      body: [`This is strike ${next} of ${user.strikes_to_suspend}: the account is suspended automatically.`,
        "Sign-in and every token stop at once, and the account's beats leave the store."],
      confirmLabel: "Strike and suspend",
    } : null,
    act: ({ reason }) => post("strike", { reason }),
    done: (answer) => announce(answer.status === "suspended" && user.status === "active"
      ? "The strike was recorded and the account is now suspended." : "The strike was recorded.", rerender),
  });
  const standing = user.status === "active" ? reasonForm({
    legend: "Suspend the account", hint: "Required. The account holder is told it.", submitLabel: "Suspend", danger: true,
    confirm: { title: `Suspend ${user.display_name}?`,
      body: ["Sign-in and every token of this account stop at once, and its beats leave the store.",
        "Lifting the suspension brings those beats back; old tokens stay revoked."],
      confirmLabel: "Suspend the account" },
    act: ({ reason }) => post("suspend", { reason }),
    done: () => announce(`${user.display_name} is suspended.`, rerender),
  }) : reasonForm({
    legend: "Lift the suspension", label: "Note", required: false, hint: "Optional, kept in the audit log.",
    submitLabel: "Unsuspend", act: ({ reason }) => post("unsuspend", { reason: reason || null }),
    done: () => announce(`${user.display_name} is active again.`, rerender),
  });
  return [strike, standing];
}

function beatItem(beat) {
  return h("tr", {}, h("td", {}, beatLink(beat)), h("td", {}, badge(beat.status, BEAT_STATUSES)),
    h("td", {}, holdsText(beat)));
}

export async function userView({ root, params }) {
  const path = `/admin/users/${encodeURIComponent(params.id)}`;
  const render = async () => {
    const [user, beats, history] = await Promise.all([
      api(path),
      api("/admin/beats", { query: { beatmaker: params.id, limit: 50 } }),
      api("/admin/audit-log", { query: { target_type: "user", target_id: params.id, limit: 20 } }),
    ]);
    adminPage(root, user.display_name,
      h("section", { class: "card admin-card", "aria-labelledby": "standing-title" },
        h("h2", { id: "standing-title" }, "Standing"),
        terms([
          ["Status", badge(user.status, STATUSES)],
          ["Email", user.email],
          ["Roles", user.roles.map(titleCase).join(", ")],
          ["Active strikes", `${user.active_strikes} of ${user.strikes_to_suspend} (suspended at ${user.strikes_to_suspend})`],
        ])),
      h("section", { "aria-labelledby": "actions-title" },
        h("h2", { id: "actions-title" }, "Actions"),
        h("div", { class: "admin-actions" }, standingActions(user, render))),
      h("section", { "aria-labelledby": "strikes-title" },
        h("h2", { id: "strikes-title" }, `Strikes (${user.strikes.length})`),
        user.strikes.length ? h("ul", { class: "admin-list" }, user.strikes.map((strike) => strikeItem(strike, render)))
          : h("p", { class: "muted" }, "No strikes.")),
      beats.items.length ? h("section", { "aria-labelledby": "beats-title" },
        h("h2", { id: "beats-title" }, "Beats"),
        scrollTable(["Title", "Status", "Held out by"], h("tbody", {}, beats.items.map(beatItem))),
        beats.next_cursor ? h("p", {}, h("a", { href: `/admin/beats?beatmaker=${encodeURIComponent(user.id)}` }, "All their beats")) : null)
        : null,
      historySection("user", user.id, history.items));
  };
  await render();
}
