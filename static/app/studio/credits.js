// The credits editor: who made the beat, in which role, and their shares. Saving replaces
// the whole list (PUT /beats/{id}/credits) and shows the credit line the server renders.

import { api } from "../api.js";
import { busy, errorBox, field, h, notice } from "../ui.js";
import { bpsToPercent, clearFieldErrors, markInvalid, percentToBps, showFormError, statusLine } from "./common.js";
import { CollaboratorsPanel, creditStatus } from "./collaborators.js";

// The roles a credit may have, as [code, words] in the order the editor offers them: the API's
// (GET /codes), the beatmaker's own role first.
export function creditRoles(codes) {
  const roles = codes.credit_roles.map((role) => [role.code, role.label]);
  return [...roles.filter(([code]) => code === "beatmaker"), ...roles.filter(([code]) => code !== "beatmaker")];
}

// The credits editor, followed by the collaborators panel (invitations, the split sheet):
// each refreshes the other when it changes the credits. `roles` come from creditRoles().
export function creditsEditor(beat, ownerId, roles) {
  const editor = new CreditsEditor(beat, ownerId, roles);
  const panel = new CollaboratorsPanel(beat, roles, { onCreditsChanged: () => editor.reload() });
  editor.onSaved = () => panel.load();
  panel.load().catch((error) => panel.list.replaceChildren(errorBox(error)));
  return h("div", { class: "credits-area" }, editor.element, panel.element);
}

class CreditsEditor {
  constructor(beat, ownerId, roles) {
    this.beat = beat;
    this.ownerId = ownerId;
    this.roles = roles;
    this.onSaved = () => {};
    this.errors = h("div");
    this.rows = h("div", { class: "credit-rows" });
    this.total = h("p", { class: "hint credit-total", "aria-live": "polite" });
    this.line = statusLine("credit-line");
    const save = h("button", { type: "submit", class: "primary" }, "Save credits");
    this.form = h("form", { class: "card credits-editor", novalidate: true, "aria-labelledby": "credits-title" },
      h("h2", { id: "credits-title" }, "Credits"),
      h("p", { class: "hint" }, "Profit shares, when given, must add up to 100%: each sale is split by them. ",
        "A name without a linked account cannot be paid, so its share is paid to you. ",
        "To credit another person with their account, invite them below. ",
        "Leave the shares blank to keep every sale yourself."),
      this.errors, this.rows, this.total,
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => this.addRow({ role: "co_producer" }, true) }, "Add a credit"),
        save),
      this.line);
    this.form.addEventListener("input", () => this.showTotal());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(save, () => this.save());
    });
    this.show(beat.credits, beat.credit_line);
  }

  get element() {
    return this.form;
  }

  show(credits, creditLine) {
    this.rows.replaceChildren();
    for (const credit of credits) this.addRow(credit, false);
    this.showLine(creditLine);
    this.showTotal();
  }

  async reload() {
    const fresh = await api(`/beats/${encodeURIComponent(this.beat.id)}/credits`);
    this.show(fresh.credits, fresh.credit_line);
  }

  showLine(creditLine) {
    this.line.replaceChildren(h("span", { class: "field-label" }, "Credit line: "), h("q", {}, creditLine));
  }

  addRow(credit, focus) {
    const number = this.rows.children.length + 1;
    const name = h("input", { name: "name", required: true, maxlength: 80, value: credit.name || "", autocomplete: "off" });
    const role = h("select", { name: "role" }, this.roles.map(([value, words]) =>
      h("option", { value, selected: value === credit.role }, words)));
    const profit = shareInput("profit_share", credit.profit_share_bps);
    const publishing = shareInput("publishing_share", credit.publishing_share_bps);
    // Kept as they are: the invitation behind a credit (pending ones are cancelled when left out)
    // and the split sheet's PRO and IPI numbers.
    const row = h("fieldset", { class: "credit-row", dataset: {
      userId: credit.user_id || "", points: credit.master_points_bps ?? "", invitationId: credit.invitation_id || "",
      status: credit.status || "", pro: credit.pro || "", ipi: credit.ipi || "" } },
      h("legend", {}, `Credit ${number}`, " ", credit.name ? creditStatus(credit, this.ownerId) : ""),
      h("div", { class: "row" },
        field("Name", name), field("Role", role),
        field("Profit share %", profit), field("Publishing share %", publishing),
        h("button", { type: "button", class: "danger remove-credit", "aria-label": `Remove credit ${number}`,
          onclick: () => this.removeRow(row) }, "Remove")));
    this.rows.append(row);
    if (focus) name.focus();
  }

  removeRow(row) {
    row.remove();
    // Renumber, so legends and button names keep matching what is on screen.
    [...this.rows.children].forEach((each, index) => {
      each.querySelector("legend").firstChild.textContent = `Credit ${index + 1}`;
      each.querySelector(".remove-credit").setAttribute("aria-label", `Remove credit ${index + 1}`);
    });
    this.showTotal();
    const next = this.rows.querySelector("input") || this.form.querySelector("button");
    next.focus();
  }

  showTotal() {
    const shares = [...this.rows.querySelectorAll("[name=profit_share]")].map((input) => input.value.trim()).filter(Boolean);
    if (!shares.length) { this.total.textContent = "No profit shares set: sales go to the beat's owner."; return; }
    const sum = shares.reduce((total, value) => total + (Number(value) || 0), 0);
    this.total.textContent = `Profit shares add up to ${Number(sum.toFixed(2))}%${Math.abs(sum - 100) < 0.005 ? "." : " – they must add up to 100%."}`;
  }

  // The rows as the API takes them, with the controls each field's errors belong next to.
  collect() {
    const credits = [];
    const controls = {};
    const problems = [];
    [...this.rows.children].forEach((row, index) => {
      const input = (name) => row.querySelector(`[name=${name}]`);
      const credit = {
        name: input("name").value.trim(),
        role: input("role").value,
        user_id: row.dataset.userId || null,
        profit_share_bps: percentToBps(input("profit_share").value),
        publishing_share_bps: percentToBps(input("publishing_share").value),
        master_points_bps: row.dataset.points === "" ? null : Number(row.dataset.points),
        invitation_id: row.dataset.invitationId || null,
        pro: row.dataset.pro || null,
        ipi: row.dataset.ipi || null,
      };
      Object.assign(controls, {
        [`${index}.name`]: input("name"), [`${index}.role`]: input("role"),
        [`${index}.profit_share_bps`]: input("profit_share"), [`${index}.publishing_share_bps`]: input("publishing_share"),
      });
      if (!credit.name) problems.push([input("name"), "A name is needed."]);
      for (const key of ["profit_share", "publishing_share"]) {
        const bps = credit[`${key}_bps`];
        if (Number.isNaN(bps) || bps < 0 || bps > 10000) problems.push([input(key), "A share is a percentage from 0 to 100."]);
      }
      credits.push(credit);
    });
    return { credits, controls, problems };
  }

  async save() {
    clearFieldErrors(this.form);
    this.errors.replaceChildren();
    const { credits, controls, problems } = this.collect();
    if (problems.length) {
      showFormError(this.form, this.errors, { message: "Some credits need attention.", details: {} });
      for (const [control, message] of problems) markInvalid(control, [message]);
      problems[0][0].focus();
      return;
    }
    try {
      const saved = await api(`/beats/${encodeURIComponent(this.beat.id)}/credits`, { method: "PUT", json: credits });
      this.show(saved.credits, saved.credit_line);
      notice("Credits saved.");
      await this.onSaved();
    } catch (error) {
      showFormError(this.form, this.errors, error, controls);
    }
  }
}

function shareInput(name, bps) {
  return h("input", { name, type: "number", inputmode: "decimal", min: 0, max: 100, step: "any", value: bpsToPercent(bps) });
}
