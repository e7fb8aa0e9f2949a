// /admin/payouts: the platform's fees per month, and transfers to payees; a transfer Stripe
// refused can be asked for again (a job makes the new attempt).

import { api } from "../api.js";
import { dateTime, field, h, notice } from "../ui.js";
import { money } from "../money.js";
import { choices } from "../labels.js";
import { serverCodes } from "../codes.js";
import { adminPage, badge, filterSelect, retryButton, scrollTable, userLinkById } from "./common.js";

const TRANSFER_STATUSES = { pending: "Pending", paid: "Paid", failed: "Failed" };

function feesSection(fees) {
  return h("section", { "aria-labelledby": "fees-title" },
    h("h2", { id: "fees-title" }, "Platform fees"),
    h("p", {}, "Total, less refunded sales: ", h("strong", {}, money(fees.total))),
    fees.months.length
      ? scrollTable(["Month", "Sales lines", "Fees", "Refunded", "Net"], h("tbody", {}, fees.months.map((month) => h("tr", {},
        h("td", {}, month.month), h("td", {}, String(month.lines)), h("td", {}, money(month.fees)),
        h("td", {}, money(month.refunded)), h("td", {}, money(month.net))))))
      : h("p", { class: "muted" }, "No fees yet."));
}

function retryTransfer(transfer, reload, errors) {
  return retryButton(`Retry transfer ${transfer.id}`, errors, async () => {
    await api(`/admin/payouts/transfers/${encodeURIComponent(transfer.id)}/retry`, { method: "POST" });
    notice("A new transfer attempt was planned.");
    await reload();
  });
}

function transferRow(transfer, reload, errors) {
  return h("tr", {},
    h("td", {}, dateTime(transfer.created_at)),
    h("td", {}, userLinkById(transfer.payee_id, "Payee")),
    h("td", {}, money(transfer.amount),
      transfer.amount_reversed.amount ? h("span", { class: "muted" }, ` (${money(transfer.amount_reversed)} reversed)`) : null),
    h("td", {}, badge(transfer.status, TRANSFER_STATUSES), transfer.failure_code ? ` ${transfer.failure_code}` : ""),
    h("td", {}, transfer.order_id || h("span", { class: "muted" }, "Several orders")),
    h("td", {}, transfer.status === "failed" ? retryTransfer(transfer, reload, errors) : ""));
}

export async function payoutsView({ root, query, navigate }) {
  const status = query.get("status") || "";
  const errors = h("div");
  const transfersBox = h("div");
  const loadTransfers = async () => {
    const transfers = await api("/admin/payouts/transfers", { query: { status, limit: 200 } });
    transfersBox.replaceChildren(transfers.length
      ? scrollTable(["Created", "Payee", "Amount", "Status", "Order", "Action"],
        h("tbody", {}, transfers.map((transfer) => transferRow(transfer, loadTransfers, errors))))
      : h("p", { class: "muted" }, "No transfers match."));
  };
  const [fees, codes] = await Promise.all([api("/admin/payouts/fees"), serverCodes()]);
  const filter = h("form", { class: "row admin-filters", "aria-label": "Filter transfers" },
    field("Status", filterSelect("status", choices(codes.transfer_statuses, TRANSFER_STATUSES), status, "Any status")),
    h("button", { type: "submit" }, "Filter"));
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    const picked = filter.elements.status.value;
    navigate(picked ? `/admin/payouts?status=${picked}` : "/admin/payouts");
  });
  adminPage(root, "Payouts", feesSection(fees),
    h("section", { "aria-labelledby": "transfers-title" },
      h("h2", { id: "transfers-title" }, "Transfers"),
      h("p", { class: "muted" }, "Newest first, the latest 200."),
      filter, errors, transfersBox));
  await loadTransfers();
}
