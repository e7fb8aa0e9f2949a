// /studio/sales: what was sold and earned, the platform's fee, the earnings ledger, a CSV of
// the sales, and the Stripe account payouts are sent to.

import { api, apiFile, hasRole } from "../api.js";
import { UNSAFE_LINK, busy, dateTime, errorBox, field, h, notice, saveFile, webUrl } from "../ui.js";
import { money, priceStep, toMinor } from "../money.js";
import { keysetPages } from "../paging.js";
import { attempt, statusLine, studioPage } from "./common.js";

const LEDGER_PAGE = 25;
const FEE_DELAY_MS = 300;
const COUNTRIES = [["US", "United States"], ["CA", "Canada"], ["GB", "United Kingdom"], ["IE", "Ireland"], ["FR", "France"],
  ["DE", "Germany"], ["NL", "Netherlands"], ["BE", "Belgium"], ["ES", "Spain"], ["IT", "Italy"], ["PT", "Portugal"],
  ["SE", "Sweden"], ["DK", "Denmark"], ["NO", "Norway"], ["FI", "Finland"], ["AT", "Austria"], ["CH", "Switzerland"],
  ["AU", "Australia"], ["NZ", "New Zealand"], ["JP", "Japan"], ["SG", "Singapore"], ["MX", "Mexico"], ["BR", "Brazil"]];
const ACCOUNT_WORDS = {
  not_connected: "Not set up: earnings wait here until you connect a Stripe account.",
  onboarding: "Started: Stripe still needs your details before it can pay you.",
  restricted: "Restricted: Stripe holds payouts until it gets what it asks for.",
  disconnected: "Disconnected: no payouts can be sent. Connect an account again.",
  enabled: "Ready: earnings are sent to your Stripe account after each sale.",
};
const LEDGER_WORDS = {
  sale: "Your share of a sale",
  platform_fee: "Platform fee",
  refund: "Refunded",
  transfer: "Sent to your Stripe account",
  transfer_reversal: "Taken back from your Stripe account",
  dispute_hold: "Held: the payment is disputed",
  dispute_release: "Dispute hold ended",
};

// The requests the page starts with, sent early by the router (see startPrefetch in main.js).
export function salesRequests() {
  return [["/payouts/balance"], ["/payouts/account"], ["/payouts/fee"], ["/payouts/sales"],
    ["/payouts/ledger", { query: { limit: LEDGER_PAGE } }]];
}

export async function salesView({ root, query, user }) {
  const [balance, account, fee, sales, ledger] = await Promise.all(
    salesRequests().map((request) => api(...request)));
  const content = [
    h("div", { class: "studio-columns" },
      h("div", {}, balanceCard(balance), notAPayee(account, user) ? becomeSellerCard() : accountCard(account)),
      h("div", {}, feeCard(fee, balance.currency))),
    salesCard(sales), ledgerCard(ledger)];
  // Collaborators credited on beats are paid too, without being beatmakers: no studio for them.
  root.replaceChildren(hasRole(user, "beatmaker") ? studioPage({ title: "Sales and earnings" }, ...content)
    : h("div", { class: "studio" }, h("h1", {}, "Payouts"), ...content));
  if (query.get("onboarding") === "done") notice(ACCOUNT_WORDS[account.status] || "Back from Stripe.");
  return undefined;
}

// Where Stripe's onboarding sends people back (any signed-in account can be paid).
export async function payoutsView(context) {
  if (!context.user) {
    return context.navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  }
  return salesView(context);
}

function balanceCard(balance) {
  return h("section", { class: "card", "aria-labelledby": "balance-title" },
    h("h2", { id: "balance-title" }, "Balance"),
    h("dl", { class: "terms studio-balance" },
      h("dt", {}, "Earned, not sent yet"), h("dd", { class: "pending" }, money(balance.pending)),
      h("dt", {}, "Paid out"), h("dd", { class: "paid" }, money(balance.paid))),
    balance.why_pending ? h("p", { class: "hint" }, balance.why_pending) : null);
}

// Stripe would be set up for nothing: the server refuses accounts that neither sell nor are credited.
function notAPayee(account, user) {
  return account.may_connect === false && account.status === "not_connected" && !hasRole(user, "beatmaker");
}

function becomeSellerCard() {
  return h("section", { class: "card", "aria-labelledby": "account-title" },
    h("h2", { id: "account-title" }, "Payout account"),
    h("p", {}, "Payouts are for people who sell beats or are credited on one. Nothing is owed to this account yet."),
    h("p", {}, "To sell your own beats, start selling from your account page: this account becomes a beatmaker's "
      + "too, keeps your orders and licenses, and can then set up payouts."),
    h("p", { class: "actions" }, h("a", { href: "/account#selling-title", class: "button primary" }, "Start selling beats")));
}

function accountCard(account) {
  const errors = h("div");
  const status = statusLine();
  const connected = account.status !== "not_connected" && account.status !== "disconnected";
  const words = { not_connected: "Set up payouts with Stripe", disconnected: "Connect a Stripe account",
    enabled: "Update your details with Stripe" }[account.status] || "Continue with Stripe";
  const go = h("button", { type: "submit", class: connected && account.status === "enabled" ? "" : "primary" }, words);
  const country = h("select", { name: "country" }, COUNTRIES.map(([code, name]) => h("option", { value: code }, name)));
  const form = h("form", { class: "payout-account" }, errors,
    connected ? null : field("Country of the account holder", country), h("div", { class: "actions" }, go), status);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(go, async () => {
      errors.replaceChildren();
      try {
        // Stripe's onboarding link works once and expires within minutes: ask for it on click.
        const link = await api("/payouts/account", { method: "POST", json: { country: country.value } });
        const url = webUrl(link.url);
        if (!url) throw new Error(UNSAFE_LINK);
        status.textContent = "Opening Stripe…";
        location.assign(url);
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    });
  });
  return h("section", { class: "card", "aria-labelledby": "account-title" },
    h("h2", { id: "account-title" }, "Payout account"),
    h("p", { class: "account-status", dataset: { status: account.status } }, ACCOUNT_WORDS[account.status] || account.status),
    account.why_disabled ? h("p", { class: "hint" }, account.why_disabled) : null,
    form);
}

function feeCard(fee, currency) {
  const percent = fee.percent_bps / 100;
  const fixed = fee.fixed.amount ? ` + ${money(fee.fixed)}` : "";
  const example = statusLine("fee-example");
  const price = h("input", { name: "price", type: "number", inputmode: "decimal", min: 0, step: priceStep(currency), value: "29.99" });
  let timer = null;
  const work = async () => {
    const amount = toMinor(price.value, currency);
    if (!(amount > 0)) { example.textContent = "Enter a price above 0 to see what it leaves."; return; }
    try {
      const answer = await api("/payouts/fee", { query: { price: amount } });
      example.textContent = `Of ${money(answer.example.price)}, the fee is ${money(answer.example.fee)} and ${money(answer.example.net)} is shared among the beat's credits.`;
    } catch (error) {
      example.textContent = error.message;
    }
  };
  price.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(work, FEE_DELAY_MS); });
  work();
  return h("section", { class: "card", "aria-labelledby": "fee-title" },
    h("h2", { id: "fee-title" }, "Platform fee"),
    h("p", { class: "fee-rule" }, `The platform keeps ${percent}%${fixed} of each license sold. `,
      "The rest is split among the beat's credits by their profit shares."),
    field(`Try a price (${currency.toUpperCase()})`, price), example);
}

function salesCard(rows) {
  const status = statusLine();
  const errors = h("div");
  const csv = h("button", { type: "button" }, "Download CSV");
  csv.addEventListener("click", () => busy(csv, () => attempt(errors, () => downloadCsv(status))));
  const table = rows.length ? h("div", { class: "table-scroll" }, h("table", { class: "sales-table" },
    h("caption", { class: "visually-hidden" }, "Sales per beat and license"),
    h("thead", {}, h("tr", {}, ["Beat", "License", "Sold", "Buyers paid", "Platform fees", "Your earnings", "Refunded"]
      .map((heading) => h("th", { scope: "col" }, heading)))),
    h("tbody", {}, rows.map((row) => h("tr", {},
      h("th", { scope: "row" }, h("a", { href: `/studio/beats/${encodeURIComponent(row.beat_id)}` }, row.beat_title)),
      h("td", {}, row.tier_name), h("td", {}, String(row.sales)), h("td", {}, money(row.gross)),
      h("td", {}, money(row.fees)), h("td", {}, money(row.earnings)), h("td", {}, money(row.refunded)))))))
    : h("p", { class: "muted" }, "No sales yet.");
  return h("section", { class: "card", "aria-labelledby": "sales-title" },
    h("h2", { id: "sales-title" }, "Sales"), table, errors, h("div", { class: "actions" }, csv), status);
}

async function downloadCsv(status) {
  status.textContent = "Preparing the CSV…";
  let csv;
  try {
    csv = await apiFile("/payouts/sales.csv");
  } catch (error) {
    status.textContent = "";
    throw error;
  }
  saveFile(csv, "sales.csv");
  status.textContent = "CSV downloaded.";
}

function ledgerCard(firstPage) {
  const body = h("tbody");
  const errors = h("div");
  const more = h("button", { type: "button" }, "Show older entries");
  const pages = keysetPages({
    more,
    load: (cursor) => {
      errors.replaceChildren();
      return api("/payouts/ledger", { query: { limit: LEDGER_PAGE, cursor } });
    },
    show: (items) => body.append(...items.map(ledgerRow)),
    fail: (error) => errors.replaceChildren(errorBox(error)),
  });
  pages.add(firstPage);
  return h("section", { class: "card", "aria-labelledby": "ledger-title" },
    h("h2", { id: "ledger-title" }, "Earnings ledger"),
    firstPage.items.length ? h("div", { class: "table-scroll" }, h("table", { class: "ledger-table" },
      h("caption", { class: "visually-hidden" }, "Earnings ledger, newest first"),
      h("thead", {}, h("tr", {}, ["Date", "What", "Amount", "Order"].map((heading) => h("th", { scope: "col" }, heading)))),
      body)) : h("p", { class: "muted" }, "Nothing earned yet."),
    errors, h("div", { class: "actions" }, more));
}

function ledgerRow(entry) {
  return h("tr", {},
    h("td", {}, dateTime(entry.created_at)), h("td", {}, LEDGER_WORDS[entry.kind] || entry.kind),
    h("td", { class: entry.amount.amount < 0 ? "studio-negative" : "" }, money(entry.amount)), h("td", {}, h("code", {}, entry.order_id)));
}
