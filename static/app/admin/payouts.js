// /admin/payouts: the platform's fees per month, and transfers to payees; a transfer Stripe
// refused can be asked for again (a job makes the new attempt).

import { api } from "../api.js";
import { busy, dateTime, errorBox, field, h, notice } from "../ui.js";
import { money } from "../money.js";
import { adminPage, badge, userLinkById } from "./common.js";

const TRANSFER_STATUSES = { pending: "Pending", paid: "Paid", failed: "Failed" };

function table(headings, rows) {
  return h("div", { class: "table-scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, headings.map((label) => h("th", { scope: "col" }, label)))),
    h("tbody", {}, rows)));
}

function feesSection(fees) {
  return h("section", { "aria-labelledby": "fees-title" },
    h("h2", { id: "fees-title" }, "Platform fees"),
    h("p", {}, "Total, less refunded sales: ", h("strong", {}, money(fees.total))),
    fees.months.length
      ? table(["Month", "Sales lines", "Fees", "Refunded", "Net"], fees.months.map((month) => h("tr", {},
        h("td", {}, month.month), h("td", {}, String(month.lines)), h("td", {}, money(month.fees)),
        h("td", {}, money(month.refunded)), h("td", {}, money(month.net)))))
      : h("p", { class: "muted" }, "No fees yet."));
}

function retryButton(transfer, reload, errors) {
  const button = h("button", { type: "button", "aria-label": `Retry transfer ${transfer.id}` }, "Retry");
  button.addEventListener("click", () => busy(button, async () => {
    errors.replaceChildren();
    try {
      await api(`/admin/payouts/transfers/${encodeURIComponent(transfer.id)}/retry`, { method: "POST" });
      notice("A new transfer attempt was planned.");
      await reload();
    } catch (error) {
      errors.replaceChildren(errorBox(error));
    }
  }));
  return button;
}

function transferRow(transfer, reload, errors) {
  return h("tr", {},
    h("td", {}, dateTime(transfer.created_at)),
    h("td", {}, userLinkById(transfer.payee_id, "Payee")),
    h("td", {}, money(transfer.amount),
      transfer.amount_reversed.amount ? h("span", { class: "muted" }, ` (${money(transfer.amount_reversed)} reversed)`) : null),
    h("td", {}, badge(transfer.status, TRANSFER_STATUSES), transfer.failure_code ? ` ${transfer.failure_code}` : ""),
    h("td", {}, transfer.order_id || h("span", { class: "muted" }, "Several orders")),
    h("td", {}, transfer.status === "failed" ? retryButton(transfer, reload, errors) : ""));
}

export async function payoutsView({ root, query, navigate }) {
  const status = query.get("status") || "";
  const errors = h("div");
  const transfersBox = h("div");
  const loadTransfers = async () => {
    const transfers = await api("/admin/payouts/transfers", { query: { status, limit: 200 } });
    transfersBox.replaceChildren(transfers.length
      ? table(["Created", "Payee", "Amount", "Status", "Order", "Action"],
        transfers.map((transfer) => transferRow(transfer, loadTransfers, errors)))
      : h("p", { class: "muted" }, "No transfers match."));
  };
  const filter = h("form", { class: "row admin-filters", "aria-label": "Filter transfers" },
    field("Status", h("select", { name: "status" }, h("option", { value: "" }, "Any status"),
      Object.entries(TRANSFER_STATUSES).map(([value, label]) => h("option", { value, selected: value === status }, label)))),
    h("button", { type: "submit" }, "Filter"));
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    const picked = filter.elements.status.value;
    navigate(picked ? `/admin/payouts?status=${picked}` : "/admin/payouts");
  });
  const fees = await api("/admin/payouts/fees");
  adminPage(root, "Payouts", feesSection(fees),
    h("section", { "aria-labelledby": "transfers-title" },
      h("h2", { id: "transfers-title" }, "Transfers"),
      h("p", { class: "muted" }, "Newest first, the latest 200."),
      filter, errors, transfersBox));
  await loadTransfers();
}
