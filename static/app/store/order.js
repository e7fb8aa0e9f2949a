// The page the payment page returns to: it waits while the payment is confirmed, then shows
// the order in words with links to the licenses it granted.

import { api } from "../api.js";
import { UNSAFE_LINK, date, dateTime, errorBox, h, webUrl } from "../ui.js";
import { money } from "../money.js";
import { statusBadge, words } from "../labels.js";
import { poll } from "../poll.js";
import { sendToSignIn } from "./common.js";

// The server asks the payment provider at most every two seconds for one order. A payment
// that settles later (a bank transfer) is not waited for beyond a few minutes.
const POLL_SECONDS = 2;
const POLL_LIMIT = 150;

const STATUS_WORDS = {
  pending: ["Waiting for the payment to be confirmed…", "wait"],
  paid: ["Paid: your licenses are ready.", "ok"],
  failed: ["The payment failed: nothing was charged.", "bad"],
  expired: ["The payment page closed before the payment was made.", "bad"],
  refunded: ["Refunded: the licenses of this order were revoked.", "bad"],
  disputed: ["The payment is disputed: downloads wait until it is settled.", "bad"],
};

const REASON_WORDS = {
  exclusive_unavailable: "The exclusive rights were sold to someone else before your payment arrived; you were refunded.",
  beat_left_store: "A beat of this order left the store before your payment arrived; nothing was licensed for it.",
  replaced_by_new_checkout: "You started a newer checkout of the same licenses; that one replaced this order.",
  payment_failed: "Your bank did not complete the payment.",
  paid_after_checkout_closed: "The payment arrived after the order had closed, so it was refunded in full.",
};

// The order number is the order's id: receipts and mails name it too.
export function orderNumber(order) {
  return order.id;
}

const BANK_TRANSFER_WORDS = "Your bank transfer is on its way. Banks take a few days; this order is updated "
  + "when it arrives, and any exclusive rights stay held for you until then. There is nothing more to do.";

function backToPayment(order) {
  if (!order.checkout_url) return null;
  const url = webUrl(order.checkout_url);
  if (!url) return h("p", { class: "error" }, UNSAFE_LINK);
  return h("p", {}, h("a", { class: "button primary", href: url }, "Back to the payment page"));
}

function statusBlock(order, cancelled) {
  if (order.status === "pending" && order.payment_under_way) {
    return h("div", { class: "order-status" },
      h("p", {}, h("span", { class: "badge wait" }, "pending"), " ", h("strong", {}, "Bank transfer under way.")),
      h("p", {}, BANK_TRANSFER_WORDS));
  }
  if (order.status === "pending" && cancelled) {
    return h("div", { class: "order-status" },
      h("p", {}, h("strong", {}, "You cancelled the payment."),
        ` The order stays open until ${dateTime(order.expires_at)}.`),
      backToPayment(order));
  }
  const stillOpen = order.status === "pending" && order.checkout_url;
  return h("div", { class: "order-status" },
    h("p", {}, statusBadge(STATUS_WORDS, order.status, { text: order.status }), " ", h("strong", {}, words(STATUS_WORDS, order.status))),
    stillOpen ? h("p", {}, `Not paid yet? The payment page is open until ${dateTime(order.expires_at)}.`) : null,
    stillOpen ? backToPayment(order) : null,
    order.status_reason ? h("p", {}, REASON_WORDS[order.status_reason] || order.status_reason) : null,
    order.paid_at ? h("p", { class: "muted" }, `Paid ${dateTime(order.paid_at)}`) : null);
}

function priceCell(item) {
  if (!item.discount.amount) return money(item.price);
  return h("span", {}, h("del", {}, money(item.list_price)), " ", money(item.price));
}

function linesTable(order) {
  return h("div", { class: "table-scroll" }, h("table", {},
    h("caption", { class: "muted" }, "What you bought"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Beat"), h("th", { scope: "col" }, "License"),
      h("th", { scope: "col" }, "Price"))),
    h("tbody", {}, order.items.map((item) => h("tr", {},
      h("td", {}, h("a", { href: `/beats/${encodeURIComponent(item.beat_id)}` }, item.beat_title)),
      h("td", {}, item.tier_name, item.status === "refunded" ? h("span", { class: "badge bad" }, "refunded") : null),
      h("td", {}, priceCell(item))))),
    h("tfoot", {},
      order.discount.amount ? h("tr", {}, h("th", { scope: "row", colspan: 2 }, `Discount${order.coupon_code ? ` (${order.coupon_code})` : ""}`),
        h("td", {}, `−${money(order.discount)}`)) : null,
      h("tr", {}, h("th", { scope: "row", colspan: 2 }, "Total"), h("td", { class: "order-total" }, money(order.total))),
      order.refunded.amount ? h("tr", {}, h("th", { scope: "row", colspan: 2 }, "Refunded"), h("td", {}, money(order.refunded))) : null)));
}

// The receipt: what was bought, what it cost and when, under the order's number; it prints.
function receiptBlock(order) {
  const facts = [
    ["Order number", h("span", { class: "order-number" }, orderNumber(order))],
    ["Placed", dateTime(order.created_at)],
    order.paid_at ? ["Paid", dateTime(order.paid_at)] : null,
    order.coupon_code ? ["Coupon", order.coupon_code] : null,
  ].filter(Boolean);
  const print = h("button", { type: "button", class: "print-receipt" }, "Print the receipt");
  print.addEventListener("click", () => window.print());
  return h("section", { class: "card store-section receipt", "aria-labelledby": "order-receipt" },
    h("h2", { id: "order-receipt" }, "Receipt"),
    h("dl", { class: "terms" }, facts.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])),
    linesTable(order),
    order.status === "paid" || order.status === "refunded" || order.status === "disputed" ? print : null);
}

function licensesBlock(order) {
  if (!order.licenses.length) return null;
  const titles = Object.fromEntries(order.items.map((item) => [item.beat_id, item.beat_title]));
  return h("section", { "aria-labelledby": "order-licenses" },
    h("h2", { id: "order-licenses" }, "Your licenses"),
    h("ul", { class: "license-links" }, order.licenses.map((license) => h("li", {},
      h("a", { href: `/licenses/${encodeURIComponent(license.id)}` }, `License ${license.license_number}`),
      ` — ${titles[license.beat_id] || "beat"} `,
      license.status !== "active" ? h("span", { class: "badge bad" }, license.status) : null,
      license.status === "active" ? " · " : null,
      license.status === "active" ? h("a", { href: `/licenses/${encodeURIComponent(license.id)}`,
        "aria-label": `Files and contract of ${titles[license.beat_id] || "this license"}` }, "Files and contract") : null))));
}

function stillWaiting(check) {
  const button = h("button", { type: "button" }, "Check again");
  const box = h("p", {}, "The payment has not been confirmed yet. Some payment methods take a while; ",
    "this order is updated as soon as it is. ", button);
  button.addEventListener("click", () => {
    box.remove();
    check();
  });
  return box;
}

export async function orderView({ root, params, query, user, navigate }) {
  if (!user) return sendToSignIn(navigate);
  const cancelled = query.get("cancelled") === "1";
  const status = h("div", { role: "status" });
  const body = h("div");
  const problem = h("div");
  const number = h("p", { class: "muted" });
  root.replaceChildren(h("p", {}, h("a", { href: "/orders" }, "← My orders")), h("h1", {}, "Your order"),
    number, status, problem, body);
  let stopPolling = () => {};
  let stopped = false;
  let shownShape = null;

  // One look at the order; true when there is nothing more to wait for.
  async function refresh() {
    let order;
    try {
      order = await api(`/orders/${encodeURIComponent(params.id)}`);
    } catch (error) {
      if (stopped) return true;
      // A failed check (the connection dropped a moment) stops the automatic checks: the
      // buyer checks again when ready.
      const again = h("button", { type: "button" }, "Check again");
      again.addEventListener("click", () => {
        problem.replaceChildren();
        watch(POLL_LIMIT);
      });
      problem.replaceChildren(errorBox(error), h("p", {}, again));
      return true;
    }
    if (stopped) return true;
    problem.replaceChildren();
    // Redrawn only when the status or licenses change, so the status line is announced once per change.
    const shape = `${order.status}:${order.licenses.length}`;
    if (shape !== shownShape) {
      shownShape = shape;
      number.replaceChildren("Order number ", h("span", { class: "order-number" }, orderNumber(order)));
      status.replaceChildren(statusBlock(order, cancelled));
      body.replaceChildren(licensesBlock(order) || "", receiptBlock(order),
        h("p", {}, h("a", { href: "/library" }, "All my licenses")));
    }
    return order.status !== "pending" || cancelled;
  }

  // A look now and, while the payment is not confirmed, every two seconds: `most` looks in all.
  async function watch(most) {
    stopPolling();
    if (await refresh()) return;
    stopPolling = poll(refresh, POLL_SECONDS, { most: most - 1, onGiveUp: () => status.append(stillWaiting(() => watch(1))) });
  }

  await watch(POLL_LIMIT);
  return () => {
    stopped = true;
    stopPolling();
  };
}

// -- the buyer's orders ------------------------------------------------------------------

const LIST_STATUS_WORDS = {
  pending: "Waiting for payment",
  paid: "Paid",
  failed: "Payment failed",
  expired: "Closed unpaid",
  refunded: "Refunded",
  disputed: "Disputed",
};

function orderCard(order) {
  const listed = order.status === "pending" && order.payment_under_way
    ? "Bank transfer under way" : words(LIST_STATUS_WORDS, order.status);
  const path = `/orders/${encodeURIComponent(order.id)}`;
  const waiting = order.status === "pending" && !order.payment_under_way && order.checkout_url;
  return h("li", { class: "card order-card" },
    h("h2", {}, h("a", { href: path }, `Order ${orderNumber(order)}`)),
    h("p", {}, `${date(order.created_at)} · `, statusBadge(STATUS_WORDS, order.status, { text: listed }), " · ",
      h("strong", { class: "order-card-total" }, money(order.total))),
    h("ul", { class: "order-card-items" }, order.items.map((item) =>
      h("li", {}, `${item.beat_title} — ${item.tier_name}`,
        item.status === "refunded" ? h("span", { class: "badge bad" }, "refunded") : null))),
    order.licenses.length ? h("p", { class: "muted" },
      `${order.licenses.length} ${order.licenses.length === 1 ? "license" : "licenses"}`) : null,
    waiting ? h("p", {}, h("a", { class: "button primary", href: path }, "Continue to pay")) : null);
}

// The requests the page starts with, sent early by the router (see startPrefetch in main.js).
export function ordersRequests() {
  return [["/orders"]];
}

export async function ordersView({ root, user, navigate }) {
  if (!user) return sendToSignIn(navigate);
  const orders = await api(...ordersRequests()[0]);
  if (!orders.length) {
    root.replaceChildren(h("h1", {}, "My orders"),
      h("p", {}, "You have no orders yet. ", h("a", { href: "/" }, "Find a beat in the store.")));
    return;
  }
  root.replaceChildren(h("h1", {}, "My orders"),
    h("p", { class: "muted" }, "Newest first. Each order's page has its receipt and its licenses."),
    h("ul", { class: "order-list" }, orders.map(orderCard)));
}
