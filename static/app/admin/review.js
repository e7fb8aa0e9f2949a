// /admin/review-queue: uploads held back until an admin approves them (pre-moderation),
// oldest first; approve or reject each here, or switch to the rejected ones.

import { api } from "../api.js";
import { date, h } from "../ui.js";
import { words } from "../labels.js";
import { SAMPLES, accountLink, adminPage, announce, beatLink, pagedList, reasonForm, terms } from "./common.js";

function reviewCard(beat, reload) {
  const review = beat.held_by.find((hold) => hold.cause === "review");
  const post = (action, json) => api(`/admin/beats/${encodeURIComponent(beat.id)}/${action}`, { method: "POST", json });
  const approve = reasonForm({
    legend: "Approve", label: "Note", required: false, hint: "Optional, kept in the audit log.", submitLabel: "Approve",
    act: ({ reason }) => post("approve", { reason: reason || null }),
    done: () => announce(`"${beat.title}" was approved and is in the store.`, reload),
  });
  const reject = review && review.review === "pending" ? reasonForm({
    legend: "Reject", hint: "Required. The beatmaker is told it.", submitLabel: "Reject", danger: true,
    confirm: { title: `Reject "${beat.title}"?`, body: "It stays out of the store and its owner is told your reason.",
      confirmLabel: "Reject it" },
    act: ({ reason }) => post("reject", { reason }),
    done: () => announce(`"${beat.title}" was rejected.`, reload),
  }) : null;
  return h("li", { class: "card" },
    h("h2", {}, beatLink(beat)),
    terms([
      ["Beatmaker", accountLink(beat.beatmaker)],
      ["Samples", words(SAMPLES, beat.samples)],
      ["Uploaded", date(beat.created_at)],
      ["Held because", review ? review.reason : null],
      ["Rejected because", review ? review.note : null],
    ]),
    h("div", { class: "admin-actions" }, approve, reject));
}

export async function reviewView({ root, query }) {
  const state = query.get("state") === "rejected" ? "rejected" : "pending";
  const list = pagedList({
    container: h("ul", { class: "admin-list" }),
    load: (cursor) => api("/admin/review-queue", { query: { state, cursor } }),
    render: (items) => items.map((beat) => reviewCard(beat, () => list.reload())),
    empty: state === "pending" ? "Nothing waits for review." : "No rejected uploads.",
    nouns: ["upload", "uploads"],
  });
  const switcher = h("p", {}, state === "pending"
    ? h("a", { href: "/admin/review-queue?state=rejected" }, "Show rejected uploads")
    : h("a", { href: "/admin/review-queue" }, "Show uploads waiting for review"));
  adminPage(root, state === "pending" ? "Review queue" : "Rejected uploads",
    h("p", { class: "muted" }, "Oldest first. Approving publishes the beat at once."), switcher, list.element);
  await list.reload();
}
