// The page the payment page returns to: it waits while the payment is confirmed, then shows
// the order in words with links to the licenses it granted.

import { api } from "../api.js";
import { UNSAFE_LINK, dateTime, errorBox, h, money, webUrl } from "../ui.js";
import { sendToSignIn } from "./common.js";

// The server asks the payment provider at most every two seconds for one order. A payment
// that settles later (a bank transfer) is not waited for beyond a few minutes.
const POLL_MILLISECONDS = 2000;
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
};

function backToPayment(order) {
  if (!order.checkout_url) return null;
  const url = webUrl(order.checkout_url);
  if (!url) return h("p", { class: "error" }, UNSAFE_LINK);
  return h("p", {}, h("a", { class: "button primary", href: url }, "Back to the payment page"));
}

function statusBlock(order, cancelled) {
  if (order.status === "pending" && cancelled) {
    return h("div", { class: "order-status" },
      h("p", {}, h("strong", {}, "You cancelled the payment."),
        ` The order stays open until ${dateTime(order.expires_at)}.`),
      backToPayment(order));
  }
  const [words, kind] = STATUS_WORDS[order.status] || [order.status, ""];
  return h("div", { class: "order-status" },
    h("p", {}, h("span", { class: `badge ${kind}` }, order.status), " ", h("strong", {}, words)),
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

function licensesBlock(order) {
  if (!order.licenses.length) return null;
  const titles = Object.fromEntries(order.items.map((item) => [item.beat_id, item.beat_title]));
  return h("section", { "aria-labelledby": "order-licenses" },
    h("h2", { id: "order-licenses" }, "Your licenses"),
    h("ul", { class: "license-links" }, order.licenses.map((license) => h("li", {},
      h("a", { href: `/licenses/${encodeURIComponent(license.id)}` }, `License ${license.license_number}`),
      ` — ${titles[license.beat_id] || "beat"}`,
      license.status !== "active" ? h("span", { class: "badge bad" }, license.status) : null))));
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
  root.replaceChildren(h("h1", {}, "Your order"), status, problem, body);
  let timer = null;
  let stopped = false;
  let shownShape = null;
  let polls = 0;

  async function refresh() {
    let order;
    try {
      order = await api(`/orders/${encodeURIComponent(params.id)}`);
    } catch (error) {
      if (stopped) return;
      // A failed check (the connection dropped a moment) stops the automatic checks: the
      // buyer checks again when ready.
      const again = h("button", { type: "button" }, "Check again");
      again.addEventListener("click", () => {
        problem.replaceChildren();
        polls = 0;
        refresh();
      });
      problem.replaceChildren(errorBox(error), h("p", {}, again));
      return;
    }
    if (stopped) return;
    problem.replaceChildren();
    // Redrawn only when the status or licenses change, so the status line is announced once per change.
    const shape = `${order.status}:${order.licenses.length}`;
    if (shape !== shownShape) {
      shownShape = shape;
      status.replaceChildren(statusBlock(order, cancelled));
      body.replaceChildren(linesTable(order), licensesBlock(order) || "",
        h("p", {}, h("a", { href: "/library" }, "All my licenses")));
    }
    if (order.status !== "pending" || cancelled) return;
    polls += 1;
    if (polls < POLL_LIMIT) timer = setTimeout(refresh, POLL_MILLISECONDS);
    else status.append(stillWaiting(refresh));
  }

  await refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
