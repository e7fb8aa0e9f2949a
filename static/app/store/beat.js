// A beat's page: what it is, its waveform, who made it, the licenses on offer compared in a
// table in plain words, Buy and Report.

import { api } from "../api.js";
import { serverCodes } from "../codes.js";
import { busy, date, duration, errorBox, field, formValues, h } from "../ui.js";
import { money } from "../money.js";
import { beatFacts, cover, followPlayer, openPaymentPage, playButton, tagLinks } from "./common.js";
import { addToCart } from "./cart.js";
import { samplesPhrase } from "./terms.js";
import { personLink, profilePath } from "./profile.js";
import { beatWaveform } from "./beat-waveform.js";
import { licenseNotes, licenseTable } from "./license-table.js";
import { freeDownloadSection } from "./free-download.js";
import { proposeSection } from "./proposals.js";

const REPORT_REASONS = [
  ["copyright", "It copies someone else's work"],
  ["uncleared_sample", "It uses a sample that is not cleared"],
  ["stolen_beat", "This beat was stolen from its maker"],
  ["offensive", "Offensive title, cover or description"],
  ["spam", "Spam or a duplicate upload"],
  ["fraud", "Fraud or a scam"],
  ["other", "Something else (say what below)"],
];

function facts(beat) {
  const rows = [
    ["Tempo", `${beat.bpm} BPM`],
    ["Key", beat.key],
    ["Genre", beat.genre],
    ["Mood", beat.mood],
    ["Length", beat.duration_ms ? duration(beat.duration_ms) : null],
    ["Plays", Number(beat.play_count).toLocaleString("en")],
    ["Published", date(beat.published_at)],
    ["Samples", samplesPhrase(beat.samples)],
  ].filter(([, value]) => value);
  return h("dl", { class: "terms" }, rows.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]));
}

function credits(beat) {
  return h("section", { class: "card store-section", "aria-labelledby": "credits-title" },
    h("h2", { id: "credits-title" }, "Credits"),
    h("ul", { class: "credits" }, beat.credits.map((credit) =>
      h("li", {}, h("span", { class: "muted" }, credit.role_label), " ", personLink(credit.name, credit.handle)))),
    beat.credit_line ? h("p", {}, "Credit line for your release: ", h("strong", { class: "credit-line" }, beat.credit_line)) : null);
}

function offersSection(beat, user, navigate, producerRoles) {
  const coupon = h("input", { name: "coupon_code", maxlength: 40, autocomplete: "off", spellcheck: false });

  async function buy(offer, button, result) {
    result.replaceChildren();
    if (!user) {
      const back = `${location.pathname}?offer=${encodeURIComponent(offer.tier_id)}`;
      navigate(`/signin?next=${encodeURIComponent(back)}`);
      return;
    }
    let leaving = false;
    await busy(button, async () => {
      try {
        const answer = await api("/checkout", { method: "POST", json: {
          items: [{ beat_id: beat.id, tier_id: offer.tier_id }], coupon_code: coupon.value.trim() || null } });
        openPaymentPage(answer, result);
        leaving = true;
      } catch (error) {
        result.replaceChildren(errorBox(error));
      }
    });
    // While the payment page loads, a second press would open a second order; coming
    // back with the Back button (a page restored from cache) may press it again.
    if (!leaving) return;
    button.disabled = true;
    window.addEventListener("pageshow", () => { button.disabled = false; }, { once: true });
  }

  function addOffer(offer, result) {
    result.replaceChildren();
    if (!user) {
      const back = `${location.pathname}?offer=${encodeURIComponent(offer.tier_id)}`;
      navigate(`/signin?next=${encodeURIComponent(back)}`);
      return;
    }
    try {
      const words = addToCart(user, { beat_id: beat.id, tier_id: offer.tier_id, beat_title: beat.title,
        beatmaker: beat.beatmaker.display_name, tier_name: offer.name });
      result.replaceChildren(h("p", { role: "status" }, words, " ", h("a", { href: "/cart" }, "Go to your cart")));
    } catch (error) {
      result.replaceChildren(errorBox(error));
    }
  }

  if (!beat.offers.length) {
    const why = beat.sold_exclusive_at
      ? `Sold exclusively on ${date(beat.sold_exclusive_at)}: this beat is no longer licensed.`
      : "This beat is not for sale right now.";
    return h("section", { "aria-labelledby": "offers-title" }, h("h2", { id: "offers-title" }, "Licenses"),
      h("p", { class: "offers-closed" }, why));
  }
  return h("section", { "aria-labelledby": "offers-title" },
    h("h2", { id: "offers-title" }, "Licenses"),
    h("div", { class: "coupon-field" },
      field("Coupon code (optional)", coupon, "Applied when you press Buy. In the cart, enter it there.")),
    licenseTable(beat, { buy, add: addOffer, producerRoles }),
    licenseNotes());
}

function reportSection(beat, user) {
  if (!user) return null;
  const result = h("div");
  const form = h("form", { class: "report-form" },
    field("Reason", h("select", { name: "reason", required: true },
      REPORT_REASONS.map(([value, label]) => h("option", { value }, label)))),
    field("Details", h("textarea", { name: "details", maxlength: 2000 }), "What is wrong? The beatmaker sees this, never who sent it."),
    h("button", { type: "submit" }, "Send report"),
    result);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        await api(`/beats/${encodeURIComponent(beat.id)}/reports`, { method: "POST", json: formValues(form) });
        form.replaceChildren(h("p", { role: "status" }, "Thank you: the report was sent to the moderators."));
      } catch (error) {
        result.replaceChildren(errorBox(error));
      }
    });
  });
  return h("details", { class: "report" }, h("summary", {}, "Report this beat"), form);
}

// Back from signing in with ?offer=: that offer is the one to press next.
function focusChosenOffer(root, query) {
  const chosen = query.get("offer");
  const card = chosen && [...root.querySelectorAll("td.offer")].find((item) => item.dataset.tierId === chosen);
  if (!card) return;
  card.classList.add("chosen");
  // After the router has focused the page, as it does once a view is rendered.
  setTimeout(() => {
    card.scrollIntoView({ block: "center", inline: "center" });
    card.querySelector("button").focus();
  });
}

export async function beatView({ root, params, query, user, navigate }) {
  // Without the codes the page still shows; a credit line then names the beatmaker as producer.
  const [beat, codes] = await Promise.all([api(`/beats/${encodeURIComponent(params.id)}`), serverCodes().catch(() => null)]);
  const producerRoles = codes ? codes.credit_roles.filter((role) => role.producer).map((role) => role.code) : [];
  document.title = `${beat.title} · Beat Market`;
  const header = h("div", { class: "beat-hero" },
    h("div", { class: "beat-hero-art" }, cover(beat, "cover cover-large"), playButton(beat)),
    h("div", { class: "beat-hero-text" },
      h("h1", {}, beat.title),
      h("p", { class: "beat-maker" }, "by ",
        h("a", { href: beat.beatmaker.handle ? profilePath(beat.beatmaker.handle)
          : `/?beatmaker=${encodeURIComponent(beat.beatmaker.id)}` }, beat.beatmaker.display_name)),
      h("p", { class: "beat-facts" }, beatFacts(beat)),
      tagLinks(beat.tags),
      beat.price_from ? h("p", { class: "price" }, `From ${money(beat.price_from)}`) : null));
  const waveform = beatWaveform(beat);
  root.replaceChildren(
    header,
    waveform ? h("section", { class: "card store-section", "aria-label": "Waveform" }, waveform.element) : "",
    h("section", { class: "card store-section", "aria-labelledby": "about-title" },
      h("h2", { id: "about-title" }, "About this beat"),
      beat.description ? h("p", { class: "description" }, beat.description) : null,
      facts(beat)),
    credits(beat),
    offersSection(beat, user, navigate, producerRoles),
    freeDownloadSection(beat, user, navigate) || "",
    proposeSection(beat, user, navigate),
    reportSection(beat, user) || "");
  focusChosenOffer(root, query);
  const unfollow = followPlayer(header);
  return () => {
    unfollow();
    if (waveform) waveform.stop();
  };
}
