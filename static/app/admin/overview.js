// /admin: what waits for an admin (open reports, uploads to review, failed jobs), the way to each
// section, and charts of the store's sales, fees, refunds and disputes over time.

import { api } from "../api.js";
import { h } from "../ui.js";
import { adminPage, countOf } from "./common.js";
import { storeCharts } from "./stats.js";

function tile(href, title, count, description) {
  return h("li", { class: "card admin-tile" },
    h("h2", {}, h("a", { href }, title)),
    count === null ? null : h("p", { class: "admin-count" }, count),
    h("p", { class: "muted" }, description));
}

export async function overviewView({ root, query, navigate }) {
  const [openReports, pendingReviews, suspended, failedJobs, charts] = await Promise.all([
    countOf("/admin/reports", { status: "open" }),
    countOf("/admin/review-queue", { state: "pending" }),
    countOf("/admin/users", { status: "suspended" }),
    api("/admin/jobs/failed", { query: { limit: 500 } }),
    storeCharts({ query, navigate }),
  ]);
  adminPage(root, "Admin",
    h("ul", { class: "admin-tiles" },
      tile("/admin/reports", "Reports", `${openReports} open`, "Complaints about beats, oldest first."),
      tile("/admin/review-queue", "Review queue", `${pendingReviews} waiting`,
        "Uploads held back until an admin approves them."),
      tile("/admin/beats", "Beats", null, "Every beat in any status, and what holds it out of the store."),
      tile("/admin/users", "Users", `${suspended} suspended`, "Find an account; strikes and suspensions."),
      tile("/admin/audit-log", "Audit log", null, "Every moderation action, with a CSV export."),
      tile("/admin/payouts", "Payouts", null, "Platform fees, and transfers to beatmakers."),
      tile("/admin/jobs", "Failed jobs", `${failedJobs.length} waiting`,
        "Contracts, delivered files and mails that failed every retry.")),
    charts.section);
  return charts.stop;
}
