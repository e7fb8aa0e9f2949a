// A beat's collaborators, under its credits: invite a person by email or @handle (they are
// credited once they accept), each invitation's state with what sales hold for it, invite
// again or cancel, and the split sheet's versions as PDFs.

import { api } from "../api.js";
import { busy, dateTime, errorBox, field, h, notice } from "../ui.js";
import { money } from "../money.js";
import { downloadSplitSheet, invitationBadge, percent } from "../invitations.js";
import { statusBadge } from "../labels.js";
import { clearFieldErrors, percentToBps, showFormError } from "./common.js";

// What each credit's consent means for the owner, in a badge and a sentence.
const CREDIT_STATUS = {
  accepted: ["Accepted", "ok", null],
  pending: ["Pending", "wait", "Invited: their share of each sale is held until they answer."],
  declined: ["Declined", "bad", "They declined: the name stays, its share is paid to you, you answer for it."],
  expired: ["Expired", "bad", "The invitation expired: its share is paid to you, you answer for it. Invite them again below."],
  name_only: ["Name only", "", "Paid to you, you answer for it."],
};

export function creditStatus(credit, ownerId) {
  const status = credit.status || (credit.user_id ? "accepted" : "name_only");
  const sentence = CREDIT_STATUS[status]?.[2];
  const own = status === "accepted" && credit.user_id === ownerId;
  return h("span", { class: "credit-status" },
    statusBadge(CREDIT_STATUS, status, { dataset: { creditStatus: status }, text: own ? "Your account" : undefined }),
    sentence ? h("small", { class: "hint" }, ` ${sentence}`) : null);
}

export class CollaboratorsPanel {
  constructor(beat, roles, { onCreditsChanged }) {
    this.beat = beat;
    this.onCreditsChanged = onCreditsChanged;
    this.invitations = [];
    this.list = h("div", { class: "invitation-rows" });
    this.sheet = h("div", { class: "split-sheet" });
    this.errors = h("div");
    this.form = this.inviteForm(roles);
    this.element = h("section", { class: "card collaborators", "aria-labelledby": "collaborators-title" },
      h("h2", { id: "collaborators-title" }, "Collaborators"),
      h("p", { class: "hint" }, "Credit another person by inviting them: they are credited with their account once "
        + "they accept, and their profit share (taken out of yours) is held for them meanwhile."),
      this.form, h("h3", {}, "Invitations"), this.list, h("h3", {}, "Split sheet"), this.sheet);
  }

  inviteForm(roles) {
    const errors = h("div");
    const send = h("button", { type: "submit", class: "primary" }, "Send the invitation");
    const form = h("form", { class: "invite-form", novalidate: true, "aria-label": "Invite a collaborator" },
      errors,
      h("div", { class: "row" },
        field("Name to credit", h("input", { name: "name", required: true, maxlength: 80, autocomplete: "off" })),
        field("Email or @handle", h("input", { name: "who", required: true, maxlength: 254, autocomplete: "off" })),
        field("Role", h("select", { name: "role" }, roles.map(([value, words]) =>
          h("option", { value, selected: value === "co_producer" ? "selected" : null }, words))))),
      h("div", { class: "row" },
        field("Profit share %", h("input", { name: "profit_share", type: "number", inputmode: "decimal", min: 0, max: 100, step: "any" }),
          "Taken out of your own share."),
        field("Publishing share %", h("input", { name: "publishing_share", type: "number", inputmode: "decimal", min: 0, max: 100, step: "any" }))),
      h("div", { class: "actions" }, send));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(send, () => this.invite(form, errors));
    });
    return form;
  }

  async invite(form, errors) {
    clearFieldErrors(form);
    errors.replaceChildren();
    const value = (name) => form.querySelector(`[name=${name}]`).value.trim();
    const who = value("who");
    // An address has an @ inside it; a handle is typed with or without a leading @.
    const byEmail = who.includes("@") && !who.startsWith("@");
    const body = {
      name: value("name"), role: value("role"),
      profit_share_bps: percentToBps(value("profit_share")), publishing_share_bps: percentToBps(value("publishing_share")),
      ...(byEmail ? { email: who } : { handle: who.replace(/^@/, "") }),
    };
    const controls = { name: form.querySelector("[name=name]"), email: form.querySelector("[name=who]"),
      handle: form.querySelector("[name=who]"), profit_share_bps: form.querySelector("[name=profit_share]"),
      publishing_share_bps: form.querySelector("[name=publishing_share]") };
    try {
      await api(`/beats/${encodeURIComponent(this.beat.id)}/invitations`, { method: "POST", json: body });
      form.reset();
      notice(`Invitation sent to ${who}.`);
      await this.changed();
    } catch (error) {
      showFormError(form, errors, error, controls);
    }
  }

  async changed() {
    await this.onCreditsChanged();
    await this.load();
  }

  async load() {
    const id = encodeURIComponent(this.beat.id);
    const [{ items }, sheet, versions] = await Promise.all([api(`/beats/${id}/invitations`),
      api(`/beats/${id}/split-sheet`), api(`/beats/${id}/split-sheet/versions`)]);
    this.invitations = items;
    this.showInvitations(items);
    this.showSheet(sheet, versions.items);
    return items;
  }

  showInvitations(items) {
    const shown = items.filter((invitation) => invitation.status !== "cancelled");
    this.list.replaceChildren(shown.length ? h("ul", { class: "invitation-list" }, shown.map((invitation) => this.invitationRow(invitation)))
      : h("p", { class: "muted" }, "No invitations yet."));
  }

  invitationRow(invitation) {
    const errors = h("div");
    const to = invitation.invited.handle ? `@${invitation.invited.handle}` : invitation.invited.email;
    const held = invitation.held && invitation.held.amount ? ` · held for them: ${money(invitation.held)}` : "";
    const when = invitation.status === "pending" ? `answer by ${dateTime(invitation.expires_at)}`
      : `${invitation.status} ${dateTime(invitation.decided_at)}`;
    const action = (path, words, label) => h("button", { type: "button", "aria-label": `${label} ${invitation.name}`,
      onclick: (event) => busy(event.currentTarget, async () => {
        try {
          await api(`/credit-invitations/${encodeURIComponent(invitation.id)}/${path}`, { method: "POST" });
          notice(path === "cancel" ? "Invitation cancelled: the credit is a name only now." : `Invited ${invitation.name} again.`);
          await this.changed();
        } catch (error) {
          errors.replaceChildren(errorBox(error));
        }
      }) }, words);
    const actions = [];
    if (invitation.status === "pending") actions.push(action("reinvite", "Send again", "Send the invitation again to"),
      action("cancel", "Cancel", "Cancel the invitation of"));
    if (["declined", "expired"].includes(invitation.status)) actions.push(action("reinvite", "Invite again", "Invite again"));
    return h("li", { class: "invitation", dataset: { invitationId: invitation.id, status: invitation.status } },
      h("div", { class: "invitation-head" }, h("strong", {}, invitation.name), ` · ${invitation.role_label} · to ${to} `,
        invitationBadge(invitation.status, { pending: "Pending" })),
      h("p", { class: "hint" }, `Profit share ${percent(invitation.profit_share_bps)}, publishing `
        + `${percent(invitation.publishing_share_bps)} · ${when}${held}`),
      errors, actions.length ? h("div", { class: "actions" }, actions) : null);
  }

  showSheet(sheet, versions) {
    const errors = h("div");
    const current = sheet.in_force;
    const proposed = sheet.proposed;
    const waiting = proposed ? proposed.acceptances.filter((a) => !a.accepted_at).map((a) => a.name) : [];
    this.sheet.replaceChildren(...[
      current ? h("p", {}, `Version ${current.number} is in force (since ${dateTime(current.in_force_at)}): sales follow it. `,
        h("small", { class: "hint" }, `SHA-256 ${current.content_hash}`)) : h("p", { class: "muted" }, "No split sheet yet."),
      proposed ? h("p", { role: "status" }, `Version ${proposed.number} changes the split and waits for `
        + `${waiting.join(", ") || "acceptances"} to accept it; sales follow version ${current ? current.number : "—"} until then.`) : null,
      errors,
      h("ul", { class: "split-versions" }, versions.map((version) => h("li", {},
        `Version ${version.number} · ${version.status.replace("_", " ")} · ${dateTime(version.created_at)} `,
        h("button", { type: "button", "aria-label": `Download the split sheet version ${version.number} (PDF)`,
          onclick: (event) => busy(event.currentTarget, async () => {
            try { await downloadSplitSheet(this.beat.id, version.number); } catch (error) { errors.replaceChildren(errorBox(error)); }
          }) }, "PDF"))))].filter(Boolean));
  }
}
