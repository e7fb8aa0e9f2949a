// /studio/tiers: the beatmaker's license tiers – what each license gives, for how long, at
// what default price. Edits apply to future sales; licenses sold keep their terms.

import { api } from "../api.js";
import { busy, field, h, notice } from "../ui.js";
import { money, toMajor, toMinor } from "../money.js";
import { attempt, bpsToPercent, clearFieldErrors, percentToBps, showFormError, studioPage } from "./common.js";
import { tierSummary } from "./offers.js";

const LIMIT_FIELDS = [
  ["distribution_copies", "Copies distributed"],
  ["audio_streams", "Audio streams"],
  ["music_videos", "Music videos"],
  ["radio_stations", "Radio stations"],
  ["paid_performances", "Paid performances"],
];
const DELIVERABLES = [["mp3", "MP3"], ["wav", "WAV"], ["stems", "Stems"]];

export async function tiersView({ root }) {
  const page = new TiersPage(root);
  await page.load();
  return undefined;
}

// The requests the page starts with, sent early by the router (see startPrefetch in main.js).
export function tiersRequests() {
  return [["/license-tiers"]];
}

class TiersPage {
  constructor(root) {
    this.root = root;
  }

  async load() {
    const tiers = await api(...tiersRequests()[0]);
    const currency = tiers.length ? tiers[0].default_price.currency : "usd";
    this.root.replaceChildren(studioPage({ title: "License tiers" },
      h("p", { class: "hint" }, "Each beat is sold under the tiers you tick on its page. Leave a limit blank for unlimited, ",
        "and the term blank for a license that never ends."),
      h("div", { class: "tier-list" }, tiers.map((tier) => this.tierCard(tier))),
      this.newTierCard(currency)));
  }

  tierCard(tier) {
    const summary = h("summary", {}, h("span", { class: "tier-name" }, tier.name), " ",
      h("span", { class: "muted" }, `${money(tier.default_price)} · ${tierSummary(tier)}`));
    const form = tierForm(tier, tier.default_price.currency, "Save tier", async (body) => {
      await api(`/license-tiers/${encodeURIComponent(tier.id)}`, { method: "PATCH", json: body });
      notice(`${body.name} saved.`);
      await this.load();
    });
    form.querySelector(".actions").append(this.removeControl(tier));
    return h("details", { class: "card tier-card", dataset: { tierId: tier.id } }, summary, form);
  }

  removeControl(tier) {
    const holder = h("span", { class: "remove-tier" });
    const errors = h("div");
    const ask = h("button", { type: "button", class: "danger" }, "Remove tier");
    const yes = h("button", { type: "button", class: "danger" }, `Yes, remove ${tier.name}`);
    const no = h("button", { type: "button" }, "Keep it");
    const question = h("span", { class: "studio-confirm", role: "group", "aria-label": "Confirm removal" },
      h("span", {}, "Its offers stop; licenses sold under it stay valid. "), yes, " ", no);
    ask.addEventListener("click", () => { holder.replaceChildren(question); yes.focus(); });
    no.addEventListener("click", () => { holder.replaceChildren(ask); ask.focus(); });
    yes.addEventListener("click", () => busy(yes, () => attempt(errors, async () => {
      await api(`/license-tiers/${encodeURIComponent(tier.id)}`, { method: "DELETE" });
      notice(`${tier.name} removed.`);
      await this.load();
    })));
    holder.append(ask);
    return h("span", {}, errors, holder);
  }

  newTierCard(currency) {
    const form = tierForm({}, currency, "Add tier", async (body) => {
      await api("/license-tiers", { method: "POST", json: body });
      notice(`${body.name} added.`);
      await this.load();
    });
    return h("section", { class: "card", "aria-labelledby": "new-tier-title" }, h("h2", { id: "new-tier-title" }, "New tier"), form);
  }
}

// The form of one tier (empty for a new one). `send(body)` saves; its errors land in the form.
function tierForm(tier, currency, buttonWords, send) {
  const errors = h("div");
  const submit = h("button", { type: "submit", class: "primary" }, buttonWords);
  const limits = tier.limits || {};
  const price = h("input", { name: "default_price", type: "number", inputmode: "decimal", min: 0, step: "0.01", required: true,
    value: tier.default_price ? toMajor(tier.default_price.amount, currency) : "" });
  const form = h("form", { class: "tier-form", novalidate: true },
    errors,
    h("div", { class: "row" },
      field("Name", h("input", { name: "name", required: true, maxlength: 60, value: tier.name || "" })),
      field("Kind", h("select", { name: "kind" },
        h("option", { value: "lease", selected: tier.kind !== "exclusive" }, "Lease (sold many times)"),
        h("option", { value: "exclusive", selected: tier.kind === "exclusive" }, "Exclusive (sold once)"))),
      field(`Default price (${currency.toUpperCase()})`, price)),
    h("fieldset", { class: "deliverables" }, h("legend", {}, "Files delivered"),
      DELIVERABLES.map(([value, words]) => h("label", { class: "choice" },
        h("input", { type: "checkbox", name: "deliverables", value, checked: (tier.deliverables || ["mp3"]).includes(value) }), ` ${words}`))),
    h("fieldset", {}, h("legend", {}, "Limits (blank = unlimited)"),
      h("div", { class: "row" }, LIMIT_FIELDS.map(([name, words]) => field(words,
        h("input", { name: `limits.${name}`, type: "number", inputmode: "numeric", min: 0, step: 1, value: limits[name] ?? "" }))))),
    h("div", { class: "row" },
      field("Term (years)", h("input", { name: "term_years", type: "number", inputmode: "numeric", min: 1, max: 99, step: 1,
        value: tier.term_years ?? "" }), "Blank: the license never ends."),
      field("Publishing share kept %", h("input", { name: "publishing_share", type: "number", inputmode: "decimal", min: 0, max: 100,
        step: "any", value: bpsToPercent(tier.publishing_share_bps ?? 5000) }), "Your share of the writer's publishing."),
      field("Master points %", h("input", { name: "master_points", type: "number", inputmode: "decimal", min: 0, max: 100,
        step: "any", value: bpsToPercent(tier.master_points_bps ?? 0) })),
      field("Content ID", h("select", { name: "content_id" },
        h("option", { value: "", selected: !tier.content_id }, "Default for the kind"),
        h("option", { value: "not_allowed", selected: tier.content_id === "not_allowed" }, "Licensee may not register it"),
        h("option", { value: "allowed", selected: tier.content_id === "allowed" }, "Licensee may register it")))),
    field("Credit line template", h("input", { name: "credit_line_template", maxlength: 200, value: tier.credit_line_template || "{credit_line}" }),
      "How the licensee must credit you: {credit_line}, {producers} and {beat_title} are filled in."),
    h("div", { class: "actions" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      clearFieldErrors(form);
      errors.replaceChildren();
      const { body, problems } = tierBody(form, currency);
      if (Object.keys(problems).length) {
        showFormError(form, errors, { message: "Some fields need attention.", details: problems });
        return;
      }
      try {
        await send(body);
      } catch (error) {
        showFormError(form, errors, error, {
          "default_price.amount": price, "default_price.currency": price,
          publishing_share_bps: form.elements.publishing_share, master_points_bps: form.elements.master_points,
        });
      }
    });
  });
  return form;
}

// The form as the API takes it, and what a person must fix first.
function tierBody(form, currency) {
  const value = (name) => form.elements[name].value.trim();
  const problems = {};
  const whole = (name, words, { min = 0, max = 10 ** 12 } = {}) => {
    if (value(name) === "") return null;
    const number = Number(value(name));
    if (!Number.isInteger(number) || number < min || number > max) problems[name] = [`${words} must be a whole number from ${min} to ${max}.`];
    return number;
  };
  const body = {
    name: value("name"),
    kind: value("kind"),
    deliverables: [...form.querySelectorAll("[name=deliverables]:checked")].map((box) => box.value),
    limits: Object.fromEntries(LIMIT_FIELDS.map(([name, words]) => [name, whole(`limits.${name}`, words)])),
    term_years: whole("term_years", "The term", { min: 1, max: 99 }),
    credit_line_template: value("credit_line_template") || "{credit_line}",
    default_price: { amount: toMinor(value("default_price"), currency), currency },
    publishing_share_bps: percentToBps(value("publishing_share")) ?? 0,
    master_points_bps: percentToBps(value("master_points")) ?? 0,
  };
  if (value("content_id")) body.content_id = value("content_id");
  if (!body.name) problems.name = ["A name is needed."];
  if (!body.deliverables.length) problems.deliverables = ["Tick at least one file."];
  if (!(body.default_price.amount > 0)) problems.default_price = ["Enter a price above 0, like 29.99."];
  for (const [name, key] of [["publishing_share", "publishing_share_bps"], ["master_points", "master_points_bps"]]) {
    if (!(body[key] >= 0 && body[key] <= 10000)) problems[name] = ["A percentage from 0 to 100."];
  }
  return { body, problems };
}
