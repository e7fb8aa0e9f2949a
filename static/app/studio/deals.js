// /studio/deals: the beatmaker's bulk deal ("Buy 2 get 1 free" on their leases) and coupon
// codes, each rule said in words; coupons are created, edited, ended and started again here.

import { api } from "../api.js";
import { busy, field, h, notice } from "../ui.js";
import { priceStep, toMinor } from "../money.js";
import { moneyText, useStylesheets } from "../charts.js";
import { attempt, clearFieldErrors, showFormError, studioPage } from "./common.js";

const MOST_LISTED = 500;
const MAX_COUNT = 20;
const UTC_DATE = new Intl.DateTimeFormat("en", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

export async function dealsView({ root }) {
  useStylesheets();
  const page = new DealsPage(root);
  await page.load();
  return undefined;
}

// "20% off", "$5.00 off"
function discountWords(coupon) {
  return coupon.kind === "percent" ? `${coupon.percent_off}% off` : `${moneyText(coupon.amount_off.amount, coupon.amount_off.currency)} off`;
}

function dayOf(iso) {
  return UTC_DATE.format(new Date(iso));
}

// The whole rule in one sentence: "20% off every beat of yours until 31 Dec 2026, 14 of 50 used."
export function couponRule(coupon, beatTitles) {
  const what = coupon.beat_id ? `“${beatTitles[coupon.beat_id] || "one beat"}”` : "every beat of yours";
  const until = coupon.expires_at ? ` until ${dayOf(coupon.expires_at)} (UTC)` : "";
  const used = coupon.max_redemptions === null ? `${coupon.redemptions} used, no limit`
    : `${coupon.redemptions} of ${coupon.max_redemptions} used`;
  return `${discountWords(coupon)} ${what}${until}, ${used}.`;
}

// Whether buyers can use the code now, and if not, why not.
function couponState(coupon) {
  if (!coupon.active) return ["Ended", "bad"];
  if (coupon.expires_at && new Date(coupon.expires_at) <= new Date()) return ["Expired", "bad"];
  if (coupon.max_redemptions !== null && coupon.redemptions >= coupon.max_redemptions) return ["Used up", "bad"];
  return ["Running", "ok"];
}

class DealsPage {
  constructor(root) {
    this.root = root;
  }

  async load() {
    const [coupons, deal, beats, currency] = await Promise.all([
      api("/coupons"), api("/deal").catch((error) => { if (error.status === 404) return null; throw error; }),
      api("/me/beats", { query: { limit: MOST_LISTED } }), storeCurrency()]);
    this.currency = currency;
    this.beats = beats.items || beats;
    this.titles = Object.fromEntries(this.beats.map((beat) => [beat.id, beat.title]));
    this.root.replaceChildren(studioPage({ title: "Deals and coupons" },
      this.dealCard(deal), this.couponsCard(coupons), this.newCouponCard()));
  }

  dealCard(deal) {
    const errors = h("div");
    const form = h("form", { class: "deal-form", novalidate: true },
      h("div", { class: "row" },
        field("Buy", h("input", { name: "buy_count", type: "number", inputmode: "numeric", min: 1, max: MAX_COUNT, step: 1, required: true,
          value: deal ? deal.buy_count : 2 })),
        field("Get free", h("input", { name: "free_count", type: "number", inputmode: "numeric", min: 1, max: MAX_COUNT, step: 1,
          required: true, value: deal ? deal.free_count : 1 }))),
      h("p", { class: "hint" }, "In each group of that many leases of yours in one cart, the cheapest are free. Exclusives are never free."),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, deal ? "Change deal" : "Start deal")));
    const end = deal ? h("button", { type: "button", class: "danger" }, "End deal") : null;
    if (end) form.querySelector(".actions").append(end);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(form.querySelector("[type=submit]"), async () => {
        clearFieldErrors(form);
        errors.replaceChildren();
        const body = { buy_count: Number(form.elements.buy_count.value), free_count: Number(form.elements.free_count.value) };
        const problems = {};
        for (const [name, words] of [["buy_count", "How many to buy"], ["free_count", "How many are free"]]) {
          if (!Number.isInteger(body[name]) || body[name] < 1 || body[name] > MAX_COUNT) problems[name] = [`${words} must be a whole number from 1 to ${MAX_COUNT}.`];
        }
        if (Object.keys(problems).length) {
          showFormError(form, errors, { message: "The deal needs attention.", details: problems });
          return;
        }
        try {
          const saved = await api("/deal", { method: "PUT", json: body });
          notice(`${saved.label} on your leases.`);
          await this.load();
        } catch (error) {
          showFormError(form, errors, error);
        }
      });
    });
    if (end) {
      end.addEventListener("click", () => busy(end, () => attempt(errors, async () => {
        await api("/deal", { method: "DELETE" });
        notice("The deal has ended.");
        await this.load();
      })));
    }
    return h("section", { class: "card deal-card", "aria-labelledby": "deal-title" },
      h("h2", { id: "deal-title" }, "Bulk deal"),
      h("p", { class: "deal-rule" }, deal ? h("strong", {}, `${deal.label} on your leases.`) : "No deal running."),
      errors, form);
  }

  couponsCard(coupons) {
    return h("section", { class: "card", "aria-labelledby": "coupons-title" },
      h("h2", { id: "coupons-title" }, "Coupons"),
      coupons.length ? h("ul", { class: "coupon-list" }, coupons.map((coupon) => this.couponItem(coupon)))
        : h("p", { class: "muted" }, "No coupons yet. Buyers type a coupon's code in their cart."));
  }

  couponItem(coupon) {
    const [state, tone] = couponState(coupon);
    const errors = h("div");
    const toggle = h("button", { type: "button", class: coupon.active ? "danger" : "" }, coupon.active ? "End coupon" : "Start again");
    toggle.addEventListener("click", () => busy(toggle, () => attempt(errors, async () => {
      if (coupon.active) await api(`/coupons/${encodeURIComponent(coupon.id)}`, { method: "DELETE" });
      else await api(`/coupons/${encodeURIComponent(coupon.id)}`, { method: "PATCH", json: { active: true } });
      notice(coupon.active ? `${coupon.code} has ended.` : `${coupon.code} runs again.`);
      await this.load();
    })));
    return h("li", { class: "coupon", dataset: { code: coupon.code } },
      h("div", { class: "coupon-head" }, h("code", { class: "coupon-code" }, coupon.code), " ",
        h("span", { class: `badge ${tone}` }, state)),
      h("p", { class: "coupon-rule" }, couponRule(coupon, this.titles)),
      errors,
      h("details", { class: "coupon-edit" }, h("summary", {}, "Edit"), this.editForm(coupon)),
      h("div", { class: "actions" }, toggle));
  }

  // The end date and the limit: the code and the discount stay as buyers know them.
  editForm(coupon) {
    const errors = h("div");
    const form = h("form", { novalidate: true }, errors,
      h("div", { class: "row" },
        field("Ends on (UTC)", h("input", { name: "expires_on", type: "date", value: coupon.expires_at ? coupon.expires_at.slice(0, 10) : "" }),
          "Blank: it never ends. It stops at the end of that day."),
        field("Uses at most", h("input", { name: "max_redemptions", type: "number", inputmode: "numeric", min: coupon.max_redemptions || 1,
          step: 1, value: coupon.max_redemptions ?? "" }),
        coupon.max_redemptions === null ? "No limit. A limit can only be set when the coupon is created." : "Can be raised, or left blank for no limit.")),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save changes")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(form.querySelector("[type=submit]"), async () => {
        clearFieldErrors(form);
        errors.replaceChildren();
        const { body, problems } = limitsFrom(form);
        if (Object.keys(problems).length) {
          showFormError(form, errors, { message: "Some fields need attention.", details: problems });
          return;
        }
        try {
          await api(`/coupons/${encodeURIComponent(coupon.id)}`, { method: "PATCH", json: body });
          notice(`${coupon.code} saved.`);
          await this.load();
        } catch (error) {
          showFormError(form, errors, error, { expires_at: form.elements.expires_on });
        }
      });
    });
    return form;
  }

  newCouponCard() {
    const errors = h("div");
    const amount = h("input", { name: "amount", type: "number", inputmode: "decimal", min: 0, step: "any", required: true });
    const kind = h("select", { name: "kind" },
      h("option", { value: "percent" }, "A percentage of the price"),
      h("option", { value: "fixed" }, `A fixed amount (${this.currency.toUpperCase()})`));
    const amountField = field("Percent off", amount, "From 1 to 100.");
    const showKind = () => {
      const percent = kind.value === "percent";
      amountField.querySelector(".field-label").textContent = percent ? "Percent off" : `Amount off (${this.currency.toUpperCase()})`;
      amountField.querySelector(".hint").textContent = percent ? "From 1 to 100." : "Taken off each line it applies to, never below 0.";
      amount.step = percent ? "1" : priceStep(this.currency);
    };
    kind.addEventListener("change", showKind);
    const form = h("form", { class: "coupon-create", novalidate: true }, errors,
      h("div", { class: "row" },
        field("Code", h("input", { name: "code", required: true, maxlength: 40, autocomplete: "off", spellcheck: false }),
          "3 to 40 letters, digits, - or _. Buyers may type it in any case."),
        field("Discount", kind), amountField),
      h("div", { class: "row" },
        field("On", h("select", { name: "beat_id" }, h("option", { value: "" }, "Every beat of mine"),
          this.beats.map((beat) => h("option", { value: beat.id }, beat.title)))),
        field("Ends on (UTC)", h("input", { name: "expires_on", type: "date" }), "Blank: it never ends."),
        field("Uses at most", h("input", { name: "max_redemptions", type: "number", inputmode: "numeric", min: 1, step: 1 }),
          "Blank: no limit. An unpaid checkout holds one use until its page closes.")),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create coupon")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(form.querySelector("[type=submit]"), async () => {
        clearFieldErrors(form);
        errors.replaceChildren();
        const { body, problems } = newCouponFrom(form, this.currency);
        if (Object.keys(problems).length) {
          showFormError(form, errors, { message: "Some fields need attention.", details: problems });
          return;
        }
        try {
          const created = await api("/coupons", { method: "POST", json: body });
          notice(`${created.code} created: ${couponRule(created, this.titles)}`);
          await this.load();
        } catch (error) {
          showFormError(form, errors, error, {
            percent_off: amount, amount_off: amount, "amount_off.amount": amount, expires_at: form.elements.expires_on,
          });
        }
      });
    });
    return h("section", { class: "card", "aria-labelledby": "new-coupon-title" }, h("h2", { id: "new-coupon-title" }, "New coupon"), form);
  }
}

// The store's currency, as the license tiers price in it.
async function storeCurrency() {
  const tiers = await api("/license-tiers");
  return tiers.length ? tiers[0].default_price.currency : "usd";
}

// "2026-12-31" -> the last moment of that day in UTC.
function endOfDay(day) {
  return `${day}T23:59:59Z`;
}

function wholeOrProblem(text, words, problems, name, min = 1) {
  if (text === "") return null;
  const number = Number(text);
  if (!Number.isInteger(number) || number < min || number > 1_000_000) {
    problems[name] = [`${words} must be a whole number from ${min} to 1,000,000.`];
  }
  return number;
}

function limitsFrom(form) {
  const problems = {};
  const day = form.elements.expires_on.value;
  const body = {
    expires_at: day ? endOfDay(day) : null,
    max_redemptions: wholeOrProblem(form.elements.max_redemptions.value.trim(), "The number of uses", problems, "max_redemptions"),
  };
  if (day && new Date(endOfDay(day)) <= new Date()) problems.expires_on = ["Choose today or a later day, or end the coupon."];
  return { body, problems };
}

function newCouponFrom(form, currency) {
  const problems = {};
  const value = (name) => form.elements[name].value.trim();
  const { body: limits, problems: limitProblems } = limitsFrom(form);
  Object.assign(problems, limitProblems);
  const body = { code: value("code"), kind: value("kind"), beat_id: value("beat_id") || null, ...limits };
  if (!/^[A-Za-z0-9_-]{3,40}$/.test(body.code)) problems.code = ["Use 3 to 40 letters, digits, - or _ (no spaces)."];
  if (body.kind === "percent") {
    body.percent_off = wholeOrProblem(value("amount"), "The percentage", problems, "amount");
    if (body.percent_off === null || body.percent_off > 100) problems.amount = ["Enter a percentage from 1 to 100."];
  } else {
    body.amount_off = { amount: toMinor(value("amount"), currency), currency };
    if (!(body.amount_off.amount > 0)) problems.amount = [`Enter an amount above 0, like ${(5).toFixed(2)}.`];
  }
  return { body, problems };
}
