// The public license check: anyone (a distributor, a label, a platform) types a license number
// and sees what the store vouches for: beat, beatmaker, license, date, status and licensee.

import { ApiError, api } from "../api.js";
import { busy, date, errorBox, field, h } from "../ui.js";

const STATUS_WORDS = {
  active: ["Valid", "ok", "This license is valid."],
  superseded: ["Upgraded", "ok", "This license was upgraded to another license of the same beat. " +
    "What was released under it while it was in use stays covered."],
  revoked: ["Revoked", "bad", "This license was revoked (a refund or a chargeback): it no longer grants any rights."],
};

const KIND_WORDS = {
  exclusive: "Exclusive rights",
  lease: "Non-exclusive lease",
};

// The certificate is what the store signed at issue; the status above is what holds today.
function certificateValue(found) {
  const certificate = found.certificate;
  if (!certificate || certificate.state !== "signed") {
    return "Being prepared: the store signs it once the licensed files are ready.";
  }
  const file = URL.createObjectURL(new Blob([certificate.token], { type: "application/jwt" }));
  return h("span", {}, "Signed by the store. ",
    h("a", { href: file, download: `${found.license_number}.jwt` }, "Download the certificate"),
    " and check it with ", h("a", { href: "/.well-known/jwks.json" }, "the store's public keys"), ".");
}

export function verifyPath(licenseNumber) {
  return `/licenses/verify/${encodeURIComponent(licenseNumber)}`;
}

function answerBlock(found) {
  const [badge, kind, words] = STATUS_WORDS[found.status] || [found.status, "", ""];
  const rows = [
    ["License number", found.license_number],
    ["Status", h("span", { class: `badge ${kind}` }, badge)],
    ["Beat", found.beat_title],
    ["Beatmaker", found.beatmaker],
    ["License", found.kind === "free" ? found.tier_name : `${found.tier_name} (${KIND_WORDS[found.kind] || found.kind})`],
    found.use === "non_profit" ? ["Use", `Non-profit use only. ${found.commercial_use || ""}`] : null,
    ["Licensee", found.licensee],
    ["Issued", date(found.issued_at)],
    ["Certificate", certificateValue(found)],
  ].filter(Boolean);
  return h("section", { class: "card store-section license-check-answer", "aria-labelledby": "check-answer" },
    h("h2", { id: "check-answer" }, `License ${found.license_number}`),
    h("p", {}, h("strong", {}, words)),
    h("dl", { class: "terms" }, rows.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])),
    h("p", { class: "muted" }, "The full terms are in the contract the licensee received; ask them for it."));
}

export async function verifyView({ root, params }) {
  const input = h("input", { name: "license_number", required: true, maxlength: 40, autocomplete: "off",
    spellcheck: false, placeholder: "LIC-XXXX-XXXX-XXXX-XXXX", value: params.number || "" });
  const answer = h("div", { class: "license-check-result" });
  const form = h("form", { class: "license-check-form", role: "search", "aria-label": "Check a license" },
    field("License number", input, "It is printed on the contract, as LIC- and four groups of four."),
    h("button", { type: "submit", class: "primary" }, "Check"));
  root.replaceChildren(h("h1", {}, "Check a license"),
    h("p", {}, "Anyone can check that a license sold here is real and what it covers."), form, answer);

  async function check(number) {
    try {
      const found = await api(`/licenses/verify/${encodeURIComponent(number)}`);
      answer.replaceChildren(answerBlock(found));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        answer.replaceChildren(h("div", { class: "error", role: "alert" },
          h("p", {}, h("strong", {}, `No license with the number “${number}”.`)),
          h("p", {}, "Check the number on the contract, letter by letter. A license that was never sold "
            + "here cannot be checked.")));
      } else {
        answer.replaceChildren(errorBox(error));
      }
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const number = input.value.trim();
    if (!number) return;
    // In the address, so a check can be shared and reloaded.
    history.replaceState({ keepFocus: true }, "", verifyPath(number));
    busy(form.querySelector("button"), () => check(number));
  });
  if (params.number) await check(params.number);
}
