// Invitations to be credited on someone's beat: the invitee's list in their account (any
// account type), and the page the mailed link opens, which answers by its token alone.

import { api, apiFile, currentUser } from "./api.js";
import { busy, dateTime, errorBox, h, notice, saveFile } from "./ui.js";
import { statusBadge, words } from "./labels.js";

export function percent(bps) {
  return bps === null || bps === undefined ? "none" : `${Number((bps / 100).toFixed(2))}%`;
}

const INVITATION_WORDS = {
  pending: ["Waiting for your answer", "wait"],
  accepted: ["Accepted", "ok"],
  declined: ["Declined", "bad"],
  expired: ["Expired", "bad"],
  cancelled: ["Withdrawn", ""],
};

// `wording` replaces some words: the owner sees "Pending" where the invitee is asked to answer.
export function invitationBadge(status, wording = {}) {
  return statusBadge(INVITATION_WORDS, status, { text: wording[status] });
}

export async function downloadSplitSheet(beatId, number) {
  const pdf = await apiFile(`/beats/${encodeURIComponent(beatId)}/split-sheet/versions/${number}.pdf`);
  saveFile(new Blob([pdf], { type: "application/pdf" }), `split-sheet-v${number}.pdf`);
}

function offerLines(invitation) {
  return [
    h("p", {}, `${invitation.invited_by.display_name} invites you to be credited on `,
      h("strong", {}, `"${invitation.beat.title}"`), ` as: ${invitation.role_label} ${invitation.name}.`),
    h("dl", { class: "invitation-shares" },
      h("dt", {}, "Profit share"), h("dd", {}, percent(invitation.profit_share_bps)),
      h("dt", {}, "Publishing share"), h("dd", {}, percent(invitation.publishing_share_bps))),
  ];
}

// The account page's section: every invitation to this account, newest first.
export function invitationsSection() {
  const section = h("section", { class: "card narrow", id: "credit-invitations", "aria-labelledby": "invitations-title" });
  const load = async () => {
    const { items } = await api("/me/credit-invitations");
    section.replaceChildren(h("h2", { id: "invitations-title" }, "Invitations to be credited"),
      items.length ? h("ul", { class: "invitation-list" }, items.map((invitation) => invitationItem(invitation, load)))
        : h("p", { class: "muted" }, "No beatmaker has invited you to be credited on a beat. "
          + "Invitations sent to your address show here once it is verified."));
  };
  return { section, load };
}

function invitationItem(invitation, reload) {
  const errors = h("div");
  const item = h("li", { class: "invitation", dataset: { invitationId: invitation.id } },
    h("div", { class: "invitation-head" }, h("strong", {}, invitation.beat.title), " ", invitationBadge(invitation.status)),
    ...offerLines(invitation), errors);
  if (invitation.status === "pending") {
    item.append(h("p", { class: "hint" }, `Answer by ${dateTime(invitation.expires_at)}. Until you accept, your share `
      + "of each sale is held for you."));
    const answer = (verb, words) => h("button", {
      type: "button", class: verb === "accept" ? "primary" : "",
      "aria-label": `${words} the invitation to "${invitation.beat.title}"`,
      onclick: (event) => busy(event.currentTarget, async () => {
        try {
          await api(`/me/credit-invitations/${encodeURIComponent(invitation.id)}/${verb}`, { method: "POST" });
          notice(verb === "accept" ? `You are credited on "${invitation.beat.title}".` : "Invitation declined.");
          await reload();
        } catch (error) {
          errors.replaceChildren(errorBox(error));
        }
      }) }, words);
    item.append(h("div", { class: "actions" }, answer("accept", "Accept"), answer("decline", "Decline")));
  } else if (invitation.status === "accepted") {
    item.append(h("p", { class: "hint" }, `Accepted ${dateTime(invitation.decided_at)}. Your share is paid to you; `
      + "set up payouts to receive it."), splitSheetButton(invitation.beat, errors));
  } else if (invitation.decided_at) {
    item.append(h("p", { class: "hint" }, `${words(INVITATION_WORDS, invitation.status)} `
      + dateTime(invitation.decided_at)));
  }
  return item;
}

function splitSheetButton(beat, errors) {
  return h("div", { class: "actions" }, h("button", { type: "button", onclick: (event) => busy(event.currentTarget, async () => {
    try {
      const sheet = await api(`/beats/${encodeURIComponent(beat.id)}/split-sheet`);
      await downloadSplitSheet(beat.id, (sheet.proposed || sheet.in_force).number);
    } catch (error) {
      errors.replaceChildren(errorBox(error));
    }
  }) }, "Download the split sheet (PDF)"));
}

// /credit-invitation?token=...: the mailed link. Declining needs no account; accepting is done
// with the account the invitee signs in to (the link proves the mailbox).
async function invitationLinkView({ root, query }) {
  const linkToken = query.get("token") || "";
  root.replaceChildren(h("div", { class: "card narrow", role: "status" }, h("p", {}, "Opening your invitation…")));
  let invitation;
  try {
    invitation = await api("/credit-invitations/lookup", { method: "POST", json: { token: linkToken } });
  } catch (error) {
    root.replaceChildren(h("div", { class: "card narrow" }, h("h1", {}, "This link does not work"), errorBox(error),
      h("p", {}, h("a", { href: "/account#credit-invitations" }, "Your invitations"))));
    return;
  }
  const user = await currentUser();
  const errors = h("div");
  const here = encodeURIComponent(location.pathname + location.search);
  const done = (title, words) => root.replaceChildren(h("div", { class: "card narrow", role: "status" },
    h("h1", {}, title), h("p", {}, words),
    h("p", {}, h("a", { href: user ? "/account#credit-invitations" : "/" }, user ? "Your invitations" : "The store"))));
  const post = (verb) => api(`/credit-invitations/${verb}`, { method: "POST", json: { token: linkToken } });
  const accept = h("button", { type: "button", class: "primary", onclick: (event) => busy(event.currentTarget, async () => {
    try {
      await post("accept");
      done("You are credited", `You are credited on "${invitation.beat.title}" as ${invitation.name}. `
        + "Your share of each sale is paid to you once you have set up payouts.");
    } catch (error) {
      errors.replaceChildren(errorBox(error));
    }
  }) }, "Accept");
  const decline = h("button", { type: "button", onclick: (event) => busy(event.currentTarget, async () => {
    try {
      await post("decline");
      done("Invitation declined", `You are not credited on "${invitation.beat.title}": the credit keeps the name `
        + "as typed, marked declined, and its share goes back to the beat's owner.");
    } catch (error) {
      errors.replaceChildren(errorBox(error));
    }
  }) }, "Decline");
  root.replaceChildren(h("section", { class: "card narrow", "aria-labelledby": "invitation-title" },
    h("h1", { id: "invitation-title" }, "An invitation to be credited"),
    ...offerLines(invitation),
    h("p", { class: "hint" }, `This link works once, until ${dateTime(invitation.expires_at)}.`),
    errors,
    user ? h("p", { class: "hint" }, `You accept as ${user.display_name} (${user.email}).`)
      : h("p", {}, "To accept, ", h("a", { href: `/signin?next=${here}` }, "sign in"), " or ",
        h("a", { href: `/signup?next=${here}` }, "create an account"), ": you are credited with it. "
        + "Declining needs no account."),
    h("div", { class: "actions" }, user ? accept : null, decline)));
}

export const invitationRoutes = [
  { path: "/credit-invitation", title: "An invitation to be credited", view: invitationLinkView },
];
