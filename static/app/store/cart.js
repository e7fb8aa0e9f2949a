// The cart: offers from any beats and beatmakers, kept in this browser for the signed-in
// account, priced by the server's quote (deals and coupon applied) before one payment.
// The page never computes a price: every amount comes from POST /checkout/quote.

import { ApiError, api } from "../api.js";
import { busy, field, h } from "../ui.js";
import { money } from "../money.js";
import { openPaymentPage, sendToSignIn } from "./common.js";

const MAX_LINES = 20; // what one checkout takes

function storageKey(user) {
  return `cart:${user.id}`;
}

// {lines: [{beat_id, tier_id, beat_title, beatmaker, tier_name}], coupon_code}
export function readCart(user) {
  try {
    const cart = JSON.parse(localStorage.getItem(storageKey(user)) || "null");
    if (cart && Array.isArray(cart.lines)) return { lines: cart.lines, coupon_code: cart.coupon_code || "" };
  } catch { /* a damaged cart starts over */ }
  return { lines: [], coupon_code: "" };
}

function writeCart(user, cart) {
  localStorage.setItem(storageKey(user), JSON.stringify(cart));
  window.dispatchEvent(new CustomEvent("cart-changed"));
}

// Adds an offer; a beat is in the cart once, under one license, so choosing another license
// of a beat already there replaces that line. Answers what happened, in words.
export function addToCart(user, line) {
  const cart = readCart(user);
  const earlier = cart.lines.find((item) => item.beat_id === line.beat_id);
  if (earlier && earlier.tier_id === line.tier_id) return `“${line.beat_title}” (${line.tier_name}) is already in your cart.`;
  if (!earlier && cart.lines.length >= MAX_LINES) {
    throw new Error(`A cart holds at most ${MAX_LINES} licenses. Pay for these first, or remove one.`);
  }
  cart.lines = earlier ? cart.lines.map((item) => (item === earlier ? line : item)) : [...cart.lines, line];
  writeCart(user, cart);
  return earlier
    ? `Your cart now has “${line.beat_title}” as ${line.tier_name} instead of ${earlier.tier_name}.`
    : `Added “${line.beat_title}” (${line.tier_name}) to your cart.`;
}

function removeLine(user, beatId) {
  const cart = readCart(user);
  cart.lines = cart.lines.filter((item) => item.beat_id !== beatId);
  writeCart(user, cart);
}

function setCoupon(user, code) {
  writeCart(user, { ...readCart(user), coupon_code: code });
}

export function emptyCart(user) {
  writeCart(user, { lines: [], coupon_code: "" });
}

export function cartSize(user) {
  return user ? readCart(user).lines.length : 0;
}

// -- pricing ------------------------------------------------------------------------------

// The server's quote of the cart, and what it refused: {quote, lineProblems, couponProblem, problem}.
// A refused code is left out so the rest is still priced; refused lines are marked, and the
// other lines priced without them, so the buyer sees what they would pay once they are removed.
async function priceCart(lines, couponCode) {
  const result = { quote: null, lineProblems: {}, couponProblem: null, problem: null };
  const ask = (items, code) => api("/checkout/quote", { method: "POST", json: {
    items: items.map((line) => ({ beat_id: line.beat_id, tier_id: line.tier_id })), coupon_code: code || null } });
  let code = couponCode;
  let priced = lines;
  for (let attempt = 0; attempt < 3 && priced.length; attempt += 1) {
    try {
      result.quote = await ask(priced, code);
      result.pricedLines = priced;
      return result;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const details = error.details || {};
      if (details.coupon_code && code) {
        result.couponProblem = [].concat(details.coupon_code).join(" ");
        code = null;
      } else if (details.items && typeof details.items === "object" && !Array.isArray(details.items)) {
        const refused = new Set(Object.keys(details.items).map(Number));
        priced.forEach((line, index) => {
          if (refused.has(index)) result.lineProblems[line.beat_id] = [].concat(details.items[index]).join(" ");
        });
        priced = priced.filter((_line, index) => !refused.has(index));
      } else {
        result.problem = error;
        return result;
      }
    }
  }
  return result;
}

// -- the page ------------------------------------------------------------------------------

function discountWords(discount) {
  if (discount.type === "deal") return `${discount.label}: −${money(discount.money)}`;
  if (discount.type === "coupon") return `Code ${discount.code}: −${money(discount.money)}`;
  return `Discount: −${money(discount.money)}`;
}

function priceCell(quoted) {
  if (!quoted) return h("td", { class: "muted" }, "—");
  const currency = quoted.price.currency;
  return h("td", { class: "cart-price" },
    quoted.discount.amount ? h("del", {}, money(quoted.list_price)) : null,
    quoted.discount.amount ? " " : null,
    h("strong", {}, quoted.price.amount ? money(quoted.price) : "Free"),
    quoted.discounts.length ? h("ul", { class: "cart-discounts" }, quoted.discounts.map((discount) =>
      h("li", {}, discountWords({ ...discount, money: { amount: discount.amount, currency } })))) : null);
}

function lineRow(line, quoted, problem, onRemove) {
  const remove = h("button", { type: "button", class: "link", "aria-label": `Remove ${line.beat_title} from the cart` },
    "Remove");
  remove.addEventListener("click", () => onRemove(line));
  return h("tr", { class: problem ? "cart-line cart-line-refused" : "cart-line", dataset: { beatId: line.beat_id } },
    h("td", {}, h("a", { href: `/beats/${encodeURIComponent(line.beat_id)}` }, quoted ? quoted.beat_title : line.beat_title),
      problem ? h("p", { class: "error cart-problem", role: "alert" }, problem) : null),
    h("td", { class: "cart-maker" }, quoted ? quoted.beatmaker.display_name : line.beatmaker),
    h("td", { class: "cart-tier" }, quoted ? quoted.tier_name : line.tier_name),
    priceCell(quoted),
    h("td", {}, remove));
}

function totalsBlock(result, refusedCount) {
  const { quote } = result;
  if (!quote) return null;
  const rows = [
    ["Subtotal", money(quote.subtotal)],
    quote.discount.amount ? ["Discounts", `−${money(quote.discount)}`] : null,
    ["Total", money(quote.total)],
  ].filter(Boolean);
  return h("section", { class: "card cart-totals", "aria-labelledby": "cart-totals-title" },
    h("h2", { id: "cart-totals-title" }, "Summary"),
    h("dl", { class: "terms" }, rows.flatMap(([name, value]) =>
      [h("dt", {}, name), h("dd", { class: name === "Total" ? "cart-total" : null }, value)])),
    refusedCount ? h("p", { class: "muted" }, "Without the licenses marked above, which cannot be bought.") : null);
}

export async function cartView({ root, user, navigate }) {
  if (!user) return sendToSignIn(navigate);
  const couponInput = h("input", { name: "coupon_code", maxlength: 40, autocomplete: "off", spellcheck: false });
  const couponResult = h("div", { class: "coupon-result" });
  const body = h("div", { class: "cart-body" });
  const couponForm = h("form", { class: "coupon-form" },
    field("Coupon code", couponInput, "A beatmaker's code applies to their beats in the cart."),
    h("button", { type: "submit" }, "Apply"), couponResult);
  root.replaceChildren(h("h1", {}, "Your cart"), body);
  let drawing = 0;

  async function draw() {
    const number = ++drawing;
    const cart = readCart(user);
    couponInput.value = cart.coupon_code;
    if (!cart.lines.length) {
      body.replaceChildren(h("p", {}, "Your cart is empty. ", h("a", { href: "/" }, "Find a beat in the store.")));
      return;
    }
    body.setAttribute("aria-busy", "true");
    let result;
    try {
      result = await priceCart(cart.lines, cart.coupon_code);
    } catch (error) {
      result = { quote: null, lineProblems: {}, couponProblem: null, problem: error };
    }
    if (number !== drawing) return; // a newer change is being priced
    body.removeAttribute("aria-busy");
    render(cart, result);
  }

  function render(cart, result) {
    const quoted = {};
    (result.pricedLines || []).forEach((line, index) => { quoted[line.beat_id] = result.quote.items[index]; });
    const refused = Object.keys(result.lineProblems).length;
    couponResult.replaceChildren(
      result.couponProblem ? h("p", { class: "error", role: "alert" }, result.couponProblem) : "",
      !result.couponProblem && result.quote && result.quote.coupon_code
        ? h("p", { class: "ok-text", role: "status" }, `Code ${result.quote.coupon_code} applied.`) : "");
    const pay = h("button", { type: "button", class: "primary pay-button" });
    const payResult = h("div", { class: "pay-result" });
    const canPay = result.quote && !refused && !result.problem;
    pay.disabled = !canPay;
    pay.textContent = canPay
      ? (result.quote.total.amount ? `Pay ${money(result.quote.total)}` : "Get these licenses for free")
      : "Pay";
    pay.addEventListener("click", () => checkOut(cart, pay, payResult));
    body.replaceChildren(
      result.problem ? h("div", { class: "error", role: "alert" }, h("p", {}, result.problem.message)) : "",
      refused ? h("p", { class: "error", role: "alert" },
        refused === 1 ? "One license in your cart cannot be bought: remove it to pay for the others."
          : `${refused} licenses in your cart cannot be bought: remove them to pay for the others.`) : "",
      h("div", { class: "table-scroll" }, h("table", { class: "cart-table" },
        h("caption", { class: "muted" }, `${cart.lines.length} ${cart.lines.length === 1 ? "license" : "licenses"} in your cart`),
        h("thead", {}, h("tr", {}, ["Beat", "Beatmaker", "License", "Price", ""].map((name) =>
          h("th", { scope: "col" }, name || h("span", { class: "visually-hidden" }, "Remove"))))),
        h("tbody", {}, cart.lines.map((line) =>
          lineRow(line, quoted[line.beat_id], result.lineProblems[line.beat_id], onRemove))))),
      couponForm,
      totalsBlock(result, refused) || "",
      h("p", { class: "actions" }, pay),
      payResult,
      h("p", { class: "muted" }, "One payment for everything in the cart. Exclusive rights are held for you "
        + "while you pay (30 minutes)."));
  }

  function onRemove(line) {
    removeLine(user, line.beat_id);
    draw();
  }

  couponForm.addEventListener("submit", (event) => {
    event.preventDefault();
    setCoupon(user, couponInput.value.trim());
    draw();
  });

  async function checkOut(cart, button, result) {
    result.replaceChildren();
    let leaving = false;
    let failed = null;
    await busy(button, async () => {
      try {
        const answer = await api("/checkout", { method: "POST", json: {
          items: cart.lines.map((line) => ({ beat_id: line.beat_id, tier_id: line.tier_id })),
          coupon_code: cart.coupon_code || null } });
        emptyCart(user); // the order holds these now; its page leads back to the payment
        if (!answer.checkout_url) {
          navigate(`/orders/${encodeURIComponent(answer.order_id)}`);
          return;
        }
        openPaymentPage(answer, result);
        leaving = true;
      } catch (error) {
        failed = error;
      }
    });
    if (failed) {
      // Priced again, so the lines checkout refused are marked where they are.
      await draw();
      body.prepend(h("div", { class: "error", role: "alert" }, h("p", {}, failed.message)));
      return;
    }
    if (!leaving) return;
    button.disabled = true; // while the payment page loads, a second press would place a second order
    window.addEventListener("pageshow", () => { button.disabled = false; }, { once: true });
  }

  await draw();
  const onStorage = (event) => { if (event.key === storageKey(user)) draw(); }; // another tab changed it
  window.addEventListener("storage", onStorage);
  return () => window.removeEventListener("storage", onStorage);
}
