// The offers editor: under which of the beatmaker's license tiers the beat is sold, at what
// price. Saving replaces the list (PUT /beats/{id}/offers); unticked tiers stop being sold.

import { api } from "../api.js";
import { busy, count, field, h, limit, notice } from "../ui.js";
import { money, priceStep, toMajor, toMinor } from "../money.js";
import { clearFieldErrors, markInvalid, showFormError, statusLine } from "./common.js";

const DELIVERABLE_WORDS = { mp3: "MP3", wav: "WAV", stems: "stems" };

// `onSaved()` is called after a save, so the page can show the beat's new lowest price.
export function offersEditor(beat, tiers, onSaved) {
  const errors = h("div");
  const result = statusLine("offers-result");
  const rows = tiers.map((tier) => offerRow(beat, tier));
  const save = h("button", { type: "submit", class: "primary" }, "Save prices");
  const form = h("form", { class: "card offers-editor", novalidate: true, "aria-labelledby": "offers-title" },
    h("h2", { id: "offers-title" }, "Prices"),
    h("p", { class: "hint" }, "Tick each license the beat is sold under and set its price. ",
      h("a", { href: "/studio/tiers" }, "Edit your license tiers"), "."),
    errors,
    tiers.length ? rows.map((row) => row.element) : h("p", {}, "You have no license tiers."),
    h("div", { class: "actions" }, save), result);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, async () => {
      clearFieldErrors(form);
      errors.replaceChildren();
      const chosen = rows.filter((row) => row.offered.checked);
      const wrong = chosen.filter((row) => !(row.amount() > 0));
      if (wrong.length) {
        showFormError(form, errors, { message: "Some prices need attention.", details: {} });
        for (const row of wrong) markInvalid(row.price, ["Enter a price above 0, like 29.99."]);
        wrong[0].price.focus();
        return;
      }
      const controls = Object.fromEntries(chosen.flatMap((row, index) =>
        [[`${index}.tier_id`, row.offered], [`${index}.price`, row.price], [`${index}.price.amount`, row.price]]));
      try {
        const saved = await api(`/beats/${encodeURIComponent(beat.id)}/offers`, {
          method: "PUT",
          json: chosen.map((row) => ({ tier_id: row.tier.id, price: { amount: row.amount(), currency: row.currency }, active: true })),
        });
        result.textContent = savedInWords(saved);
        notice("Prices saved.");
        await onSaved();
      } catch (error) {
        showFormError(form, errors, error, controls);
      }
    });
  });
  return form;
}

function offerRow(beat, tier) {
  const current = beat.offers.find((offer) => offer.tier_id === tier.id);
  const price = current ? current.price : tier.default_price;
  const barred = current ? null : whyNotOffered(beat, tier);
  const offered = h("input", { type: "checkbox", name: `offer-${tier.id}`, checked: Boolean(current), disabled: Boolean(barred) });
  const currency = price.currency;
  const priceInput = h("input", { name: `price-${tier.id}`, type: "number", inputmode: "decimal", min: 0, step: priceStep(currency),
    value: toMajor(price.amount, currency) });
  // A tier this beat cannot be sold under says why, without a price to fill in.
  const element = h("fieldset", { class: "offer-row", dataset: { tierId: tier.id } },
    h("legend", {}, tier.name),
    h("p", { class: "hint" }, tierSummary(tier)),
    h("div", { class: "row" },
      h("label", { class: "choice" }, offered, ` Sell as ${tier.name}`),
      barred ? h("p", { class: "hint offer-barred" }, barred) : field([h("span", { class: "visually-hidden" }, `${tier.name} `), `Price (${currency.toUpperCase()})`], priceInput)));
  return { tier, element, offered, price: priceInput, currency, amount: () => toMinor(priceInput.value, currency) };
}

export function tierSummary(tier) {
  const delivers = tier.deliverables.map((kind) => DELIVERABLE_WORDS[kind] || kind).join(" + ");
  const term = tier.term_years ? count(tier.term_years, "year") : "perpetual";
  return `${tier.kind === "exclusive" ? "Exclusive" : "Lease"} · ${delivers} · ${limit(tier.limits.audio_streams, "streams")} · ${term}`;
}

// Why a tier cannot be offered for this beat, as the server would say it (or null).
function whyNotOffered(beat, tier) {
  if (beat.status === "sold_exclusive") return "The exclusive rights were sold: the beat cannot be offered again.";
  if (tier.deliverables.includes("stems") && !beat.has_stems) return "Delivers stems, and this beat has none.";
  if (tier.deliverables.includes("wav") && !beat.lossless_master) return "Delivers WAV, and this beat's master is not lossless.";
  if (tier.kind === "exclusive" && beat.samples === "uncleared") return "A beat with uncleared samples cannot be sold exclusively.";
  return null;
}

function savedInWords(offers) {
  if (!offers.length) return "The beat is not on sale under any tier.";
  const lowest = offers.reduce((low, offer) => (offer.price.amount < low.price.amount ? offer : low));
  return `On sale under ${offers.length} ${offers.length === 1 ? "tier" : "tiers"}, from ${money(lowest.price)}.`;
}
