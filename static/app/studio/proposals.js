// /studio/offers: the offers artists made on the beatmaker's beats (accept, decline or counter
// each), and per license tier whether it takes offers and the least an offer may be.

import { api } from "../api.js";
import { busy, dateTime, errorBox, field, h, notice } from "../ui.js";
import { money, priceStep, toMajor, toMinor } from "../money.js";
import { studioPage } from "./common.js";

const STATUS_WORDS = {
  open: "Waiting for your answer", countered: "Waiting for the artist's answer to your price",
  accepted: "Accepted: the artist may pay it", paid: "Paid", declined: "Declined", withdrawn: "Withdrawn",
  expired: "Expired", ended: "Ended: the exclusive rights were sold",
};

function post(path, json, box, refresh, button) {
  return busy(button, async () => {
    try {
      await api(path, { method: "POST", json });
      await refresh();
    } catch (error) {
      box.replaceChildren(errorBox(error));
    }
  });
}

function counterForm(proposal, box, refresh) {
  const amount = h("input", { name: "amount", type: "number", min: "0", step: priceStep(proposal.amount.currency),
    required: true, inputmode: "decimal" });
  const message = h("input", { name: "message", maxlength: 2000 });
  const submit = h("button", { type: "submit" }, "Send counter-offer");
  const form = h("form", { class: "counter-form" },
    field(`Your price (${proposal.amount.currency.toUpperCase()})`, amount), field("Message (optional)", message),
    submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    post(`/proposals/${encodeURIComponent(proposal.id)}/counter`,
      { amount: toMinor(amount.value, proposal.amount.currency), message: message.value }, box, refresh, submit);
  });
  return h("details", {}, h("summary", {}, "Counter"), form);
}

function proposalItem(proposal, refresh) {
  const box = h("div");
  const path = (action) => `/proposals/${encodeURIComponent(proposal.id)}/${action}`;
  const accept = h("button", { type: "button", class: "primary" }, `Accept ${money(proposal.amount)}`);
  const decline = h("button", { type: "button" }, "Decline");
  accept.addEventListener("click", () => post(path("accept"), undefined, box, refresh, accept));
  decline.addEventListener("click", () => post(path("decline"), undefined, box, refresh, decline));
  return h("li", { class: "card proposal", dataset: { proposalId: proposal.id } },
    h("h2", {}, proposal.beat_title),
    h("p", {}, `${proposal.artist_name} offers ${money(proposal.amount)} for ${proposal.tier_name} · `,
      h("strong", { class: "proposal-status" }, STATUS_WORDS[proposal.status] || proposal.status)),
    proposal.message ? h("p", { class: "proposal-message" }, `“${proposal.message}”`) : "",
    proposal.counter ? h("p", {}, `Your counter-offer: ${money(proposal.counter)}`) : "",
    proposal.agreed ? h("p", {}, `Agreed at ${money(proposal.agreed)}`) : "",
    proposal.status === "open" ? h("p", { class: "muted" }, `Expires ${dateTime(proposal.expires_at)}`) : "",
    proposal.status === "open" ? h("div", { class: "actions" }, accept, decline, counterForm(proposal, box, refresh)) : "",
    box);
}

function termsRow(terms) {
  const open = h("input", { type: "checkbox", name: "open", checked: terms.open });
  const minimum = h("input", { type: "number", name: "minimum", min: "0", step: priceStep(terms.minimum.currency),
    value: terms.minimum.amount ? toMajor(terms.minimum.amount, terms.minimum.currency) : "", inputmode: "decimal" });
  const save = h("button", { type: "submit" }, "Save");
  const box = h("div");
  const form = h("form", { class: "proposal-terms", dataset: { tierId: terms.tier_id } },
    h("h3", {}, terms.tier_name),
    h("label", { class: "checkbox" }, open, " Takes offers"),
    field(`Least offer (${terms.minimum.currency.toUpperCase()}, blank for none)`, minimum), save, box);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, async () => {
      try {
        const amount = minimum.value.trim() === "" ? 0 : toMinor(minimum.value, terms.minimum.currency);
        await api(`/studio/proposal-terms/${encodeURIComponent(terms.tier_id)}`,
          { method: "PUT", json: { open: open.checked, minimum_amount: amount } });
        box.replaceChildren();
        notice(`Saved: ${terms.tier_name} ${open.checked ? "takes offers" : "takes no offers"}.`);
      } catch (error) {
        box.replaceChildren(errorBox(error));
      }
    });
  });
  return h("li", { class: "card" }, form);
}

export async function proposalsView({ root }) {
  async function refresh() {
    const [proposals, terms] = await Promise.all([api("/studio/proposals"), api("/studio/proposal-terms")]);
    root.replaceChildren(studioPage({ title: "Offers" },
      proposals.length
        ? h("ul", { class: "proposals" }, proposals.map((proposal) => proposalItem(proposal, refresh)))
        : h("p", {}, "No artist has made an offer on your beats yet."),
      h("h2", {}, "Which licenses take offers"),
      h("p", { class: "muted" }, "An offer is at least the smallest payment the payment provider takes, and at "
        + "least the amount you set here."),
      h("ul", { class: "proposal-terms-list" }, terms.map(termsRow))));
  }
  await refresh();
}
