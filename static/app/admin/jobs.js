// /admin/jobs: background jobs that failed every retry and wait for an admin: buyers' contracts,
// delivered files and mails first of all. The error says why; "Retry" runs the job again. A mail
// the server refused for good (no such mailbox) is listed at once, with the server's answer.

import { api } from "../api.js";
import { dateTime, h, notice } from "../ui.js";
import { words } from "../labels.js";
import { adminPage, retryButton, scrollTable } from "./common.js";

const KINDS = { contract: "Contract", delivery: "Delivered files", email: "Email", other: "Other job" };

function retryJob(failed, reload, errors) {
  const label = `${words(KINDS, failed.kind)} ${failed.license_id || failed.job}`;
  return retryButton(`Retry: ${label}`, errors, async () => {
    const after = await api(`/admin/jobs/failed/${encodeURIComponent(failed.id)}/retry`, { method: "POST" });
    notice(after.retried_at ? "The job ran again." : "The job failed again: its new error is listed.",
      after.retried_at ? "info" : "error");
    await reload();
  });
}

function failedRow(failed, reload, errors) {
  return h("tr", {},
    h("td", {}, dateTime(failed.failed_at)),
    h("td", {}, words(KINDS, failed.kind)),
    h("td", {}, failed.license_id ? `License ${failed.license_id}` : h("code", {}, failed.job)),
    h("td", {}, h("code", { class: "job-error" }, failed.error)),
    h("td", {}, String(failed.attempts)),
    h("td", {}, retryJob(failed, reload, errors)));
}

export async function jobsView({ root }) {
  const errors = h("div");
  const list = h("div");
  const load = async () => {
    const failed = await api("/admin/jobs/failed", { query: { limit: 500 } });
    list.replaceChildren(failed.length
      ? scrollTable(["Failed", "Kind", "For", "Error", "Attempts", "Action"],
        h("tbody", {}, failed.map((row) => failedRow(row, load, errors))))
      : h("p", { class: "muted" }, "No failed jobs: every contract and file was made. Every mail went out."));
  };
  adminPage(root, "Failed jobs",
    h("p", {}, "Jobs that failed every retry, and mails a mail server refused for good (never retried). ",
      "Nothing retries them on its own: read the error, fix its cause if it is in the data, then retry."),
    errors, list);
  await load();
}
