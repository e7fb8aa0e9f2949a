// The licenses of a beat side by side: one column per tier (its name, kind and price, then
// Buy and Add to cart at the foot), one row per right, in words people read ("10,000
// streams", "Unlimited", "Not allowed"). On a phone the table scrolls sideways inside its
// own box, the row names staying in view, so the page itself never gets wider than the screen.

import { h } from "../ui.js";
import { money } from "../money.js";

const FILES = { mp3: "MP3", wav: "WAV", stems: "Stems (track-outs)" };

// "2,500 copies", "1 copy", "Unlimited", "Not allowed"
function amount(value, singular, plural) {
  if (value === null || value === undefined) return "Unlimited";
  if (value === 0) return "Not allowed";
  return `${Number(value).toLocaleString("en")} ${value === 1 ? singular : plural}`;
}

function files(deliverables = []) {
  const words = deliverables.map((kind) => FILES[kind] || kind);
  return words.length > 1 ? `${words.slice(0, -1).join(", ")} and ${words.at(-1)}` : words.join("");
}

function term(years) {
  if (years === null || years === undefined) return "Perpetual";
  return years === 1 ? "1 year" : `${years} years`;
}

// The credit a tier asks for, filled in the way licensing fills it into the contract at sale
// ({credit_line}, {producers}, {beat_title}; "{{" and "}}" stand for braces). `producerRoles`
// are the credit roles whose names fill {producers} (GET /codes).
export function creditFor(template, beat, producerRoles) {
  const producers = beat.credits.filter((credit) => producerRoles.includes(credit.role))
    .map((credit) => credit.name).join(" & ") || beat.beatmaker.display_name;
  const values = { credit_line: beat.credit_line, producers, beat_title: beat.title };
  return (template || "").replace(/\{\{|\}\}|\{(\w+)\}/g,
    (match, name) => (match === "{{" ? "{" : match === "}}" ? "}" : values[name] ?? match));
}

function credit(offer, beat, { producerRoles }) {
  const line = creditFor(offer.credit_line_template ?? "{credit_line}", beat, producerRoles).trim();
  return line ? h("span", {}, "Required: ", h("q", { class: "credit-line" }, line)) : "Not required";
}

const ROWS = [
  ["Files", (offer) => files(offer.deliverables)],
  ["Copies", (offer) => amount(offer.limits.distribution_copies, "copy", "copies")],
  ["Streams", (offer) => amount(offer.limits.audio_streams, "stream", "streams")],
  ["Music videos", (offer) => amount(offer.limits.music_videos, "video", "videos")],
  ["Radio", (offer) => amount(offer.limits.radio_stations, "station", "stations")],
  ["Paid performances", (offer) => amount(offer.limits.paid_performances, "show", "shows")],
  ["Term", (offer) => term(offer.term_years)],
  ["Credit line", credit],
  ["Content ID", (offer) => (offer.content_id === "allowed" ? "Allowed" : "Not allowed")],
];

// Why an offer cannot be bought now, in words.
function unavailableReason(beat, offer) {
  if (beat.sold_exclusive_at || beat.status === "sold_exclusive") {
    return "Sold: the exclusive rights to this beat were bought, so it is no longer licensed.";
  }
  if (offer.kind === "exclusive" && beat.samples === "uncleared") {
    return "Not sold exclusively: the beat contains uncleared samples.";
  }
  if (offer.kind === "exclusive") {
    return "On hold: another buyer is paying for the exclusive right now. If they do not finish, it comes back.";
  }
  return "Not available right now.";
}

function columnHead(offer) {
  const exclusive = offer.kind === "exclusive";
  return h("th", { scope: "col", class: `offer-head${offer.available ? "" : " offer-unavailable"}` },
    h("span", { class: "offer-name" }, offer.name), " ",
    h("span", { class: `badge${exclusive ? " exclusive" : ""}` }, exclusive ? "Exclusive" : "Lease"),
    h("span", { class: "offer-price" }, money(offer.price)));
}

// The foot of a column: the buttons, why it cannot be bought, and what pressing them did.
function buyCell(beat, offer, { buy, add }) {
  const reasonId = `offer-reason-${offer.tier_id}`;
  const buyButton = h("button", { type: "button", class: "primary", disabled: !offer.available,
    "aria-label": offer.available ? `Buy ${offer.name} for ${money(offer.price)}` : `${offer.name} unavailable`,
    "aria-describedby": offer.available ? null : reasonId }, offer.available ? "Buy" : "Unavailable");
  const cartButton = offer.available
    ? h("button", { type: "button", class: "add-to-cart", "aria-label": `Add ${offer.name} to cart` }, "Add to cart")
    : null;
  const result = h("div", { class: "offer-result" });
  buyButton.addEventListener("click", () => buy(offer, buyButton, result));
  if (cartButton) cartButton.addEventListener("click", () => add(offer, result));
  return h("td", { class: `offer${offer.available ? "" : " offer-unavailable"}`,
    dataset: { tierId: offer.tier_id, tierName: offer.name } },
  h("div", { class: "offer-buttons" }, buyButton, cartButton),
  offer.available ? null : h("p", { class: "offer-reason", id: reasonId }, unavailableReason(beat, offer)),
  result);
}

// `actions`: {buy, add} for the buttons, and the credit roles filling {producers} (producerRoles).
export function licenseTable(beat, actions) {
  const offers = beat.offers;
  const captionId = `license-table-${beat.id}`;
  const table = h("table", { class: "license-table" },
    h("caption", { id: captionId, class: "visually-hidden" }, `The licenses of ${beat.title}, side by side`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", class: "row-name" }, "License"), offers.map(columnHead))),
    h("tbody", {}, ROWS.map(([name, value]) => h("tr", {},
      h("th", { scope: "row", class: "row-name" }, name),
      offers.map((offer) => h("td", { class: offer.available ? null : "offer-unavailable" }, value(offer, beat, actions)))))),
    h("tfoot", {}, h("tr", {}, h("th", { scope: "row", class: "row-name" }, "Get it"),
      offers.map((offer) => buyCell(beat, offer, actions)))));
  // Focusable and named, so a keyboard can scroll it when it is wider than the screen.
  return h("div", { class: "license-table-scroll", tabindex: "0", role: "region", "aria-labelledby": captionId },
    table);
}

export function licenseNotes() {
  return h("p", { class: "muted license-notes" },
    "A lease may be licensed to other artists too. Exclusive rights are sold once: the beat then leaves the store. ",
    h("span", { class: "swipe-hint" }, "Swipe the table sideways to compare every license."));
}
