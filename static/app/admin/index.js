// The admin console: moderation of reports, beats, uploads and accounts, the audit log and
// payouts, background jobs that failed, and leak tracing. Every page is for admin accounts only; each calls the /admin API.

import { overviewView } from "./overview.js";
import { reportView, reportsView } from "./reports.js";
import { beatView, beatsView } from "./beats.js";
import { reviewView } from "./review.js";
import { userView, usersView } from "./users.js";
import { auditView } from "./audit.js";
import { payoutsView } from "./payouts.js";
import { jobsView } from "./jobs.js";
import { traceView } from "./trace.js";
import { adminPage } from "./common.js";
import { errorBox } from "../ui.js";

// A page whose report, beat or account does not exist still has its heading and section
// links, with the API's answer in words.
function keepFrame(view) {
  return async (context) => {
    try {
      return await view(context);
    } catch (error) {
      if (error.status !== 404) throw error;
      adminPage(context.root, "Not found", errorBox(error));
      return undefined;
    }
  };
}

const admin = (path, title, view) => ({ path, title, role: "admin", view: keepFrame(view) });

export const adminRoutes = [
  admin("/admin", "Admin", overviewView),
  admin("/admin/reports", "Reports", reportsView),
  admin("/admin/reports/:id", "Report", reportView),
  admin("/admin/beats", "Beats", beatsView),
  admin("/admin/beats/:id", "Beat", beatView),
  admin("/admin/review-queue", "Review queue", reviewView),
  admin("/admin/users", "Users", usersView),
  admin("/admin/users/:id", "User", userView),
  admin("/admin/audit-log", "Audit log", auditView),
  admin("/admin/payouts", "Payouts", payoutsView),
  admin("/admin/jobs", "Failed jobs", jobsView),
  admin("/admin/trace", "Leak tracing", traceView),
];
