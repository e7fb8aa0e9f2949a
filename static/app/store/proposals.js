// Price proposals for artists: "Make an offer" on a beat's page, and the list of their offers
// (/library/offers) where a counter-offer is accepted or declined and an accepted offer is paid.

import { api, hasRole } from "../api.js";
import { UNSAFE_LINK, busy, dateTime, errorBox, field, h, webUrl } from "../ui.js";
import { money, priceStep, toMinor } from "../money.js";
import { sendToSignIn } from "./common.js";

const STATUS_WORDS = {
  open: "Waiting for the seller", countered: "The seller answered with another price", accepted: "Accepted",
  paid: "Paid", declined: "Declined", withdrawn: "Withdrawn", expired: "Expired",
  ended: "Ended: the exclusive rights were sold to someone else",
};

// The beat page's "Make an offer": a license (the exclusive first), an amount and a message.
export function proposeSection(beat, user, navigate) {
  // Artists make offers; a signed-out visitor sees the form and signs in to send it.
  if (!beat.offers.length || (user && !hasRole(user, "artist"))) return "";
  const offers = [...beat.offers].sort((a, b) => (b.kind === "exclusive") - (a.kind === "exclusive"));
  const currency = offers[0].price.currency;
  const result = h("div");
  const tier = h("select", { name: "tier_id" }, offers.map((offer) => h("option", { value: offer.tier_id }, offer.name)));
  const amount = h("input", { name: "amount", type: "number", min: "0", step: priceStep(currency), required: true,
    inputmode: "decimal" });
  const message = h("textarea", { name: "message", maxlength: 2000 });
  const form = h("form", { class: "propose-form" },
    field("License", tier, "The seller decides which licenses take offers, and may set a least amount."),
    field(`Your price (${currency.toUpperCase()})`, amount),
    field("Message to the seller (optional)", message),
    h("button", { type: "submit" }, "Send offer"), result);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!user) {
      navigate(`/signin?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        await api("/proposals", { method: "POST", json: { beat_id: beat.id, tier_id: tier.value,
          amount: toMinor(amount.value, currency), message: message.value } });
        form.replaceChildren(h("p", { role: "status" }, "Your offer was sent: the seller is told by email. ",
          h("a", { href: "/library/offers" }, "See your offers")));
      } catch (error) {
        result.replaceChildren(errorBox(error));
      }
    });
  });
  return h("details", { class: "card store-section propose" }, h("summary", {}, "Make an offer"), form);
}

function act(proposal, action, label, refresh, box) {
  const button = h("button", { type: "button" }, label);
  button.addEventListener("click", () => busy(button, async () => {
    try {
      await api(`/proposals/${encodeURIComponent(proposal.id)}/${action}`, { method: "POST" });
      await refresh();
    } catch (error) {
      box.replaceChildren(errorBox(error));
    }
  }));
  return button;
}

// Pay: the private checkout at the agreed price, on the ordinary payment page.
function payButton(proposal, box) {
  const button = h("button", { type: "button", class: "primary" }, `Pay ${money(proposal.agreed)}`);
  button.addEventListener("click", () => busy(button, async () => {
    try {
      const answer = await api("/checkout", { method: "POST",
        json: { items: [{ kind: "proposal", proposal_id: proposal.id }] } });
      const url = webUrl(answer.checkout_url);
      if (answer.checkout_url && !url) throw new Error(UNSAFE_LINK);
      location.assign(url || `/orders/${encodeURIComponent(answer.order_id)}`);
    } catch (error) {
      box.replaceChildren(errorBox(error));
    }
  }));
  return button;
}

function proposalItem(proposal, refresh) {
  const box = h("div");
  const actions = [];
  if (proposal.status === "countered") {
    actions.push(act(proposal, "accept", `Accept ${money(proposal.counter)}`, refresh, box),
      act(proposal, "decline", "Decline", refresh, box));
  }
  if (proposal.status === "accepted") actions.push(payButton(proposal, box));
  if (["open", "countered", "accepted"].includes(proposal.status)) {
    actions.push(act(proposal, "withdraw", "Withdraw", refresh, box));
  }
  return h("li", { class: "card proposal", dataset: { proposalId: proposal.id } },
    h("h2", {}, h("a", { href: `/beats/${encodeURIComponent(proposal.beat_id)}` }, proposal.beat_title)),
    h("p", {}, `${proposal.tier_name} · you offered ${money(proposal.amount)} · `,
      h("strong", { class: "proposal-status" }, STATUS_WORDS[proposal.status] || proposal.status)),
    proposal.counter ? h("p", {}, `The seller's price: ${money(proposal.counter)}`,
      proposal.counter_message ? h("span", { class: "proposal-message" }, ` “${proposal.counter_message}”`) : "") : "",
    proposal.status === "accepted"
      ? h("p", {}, `Agreed at ${money(proposal.agreed)}. Pay by ${dateTime(proposal.checkout_until)}.`) : "",
    ["open", "countered"].includes(proposal.status)
      ? h("p", { class: "muted" }, `Expires ${dateTime(proposal.expires_at)}`) : "",
    actions.length ? h("p", { class: "actions" }, ...actions) : "", box);
}

export async function proposalsView({ root, user, navigate }) {
  if (!user) return sendToSignIn(navigate);
  async function refresh() {
    const proposals = await api("/proposals");
    root.replaceChildren(h("h1", {}, "My offers"), proposals.length
      ? h("ul", { class: "proposals" }, proposals.map((proposal) => proposalItem(proposal, refresh)))
      : h("p", {}, "You have made no offers. On a beat's page, use Make an offer."));
  }
  await refresh();
}
