// /p/:handle: a beatmaker's or collaborator's public page: who they are, their beats in the
// store and the beats of others they are credited on.

import { api } from "../api.js";
import { h } from "../ui.js";
import { money } from "../money.js";
import { beatFacts, beatPath, cover } from "./common.js";

// The page of a person with a handle; the store's filter by beatmaker for one without.
export function profilePath(handle) {
  return `/p/${encodeURIComponent(handle)}`;
}

// A person's name, linked to their page when they have a handle.
export function personLink(name, handle) {
  return handle ? h("a", { href: profilePath(handle), class: "person-link" }, name) : name;
}

// Only https links are shown: the server refuses others, and a page never trusts that alone.
function safeLink(text) {
  try {
    const url = new URL(text);
    return url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

function links(profile) {
  const shown = profile.links.map(safeLink).filter(Boolean);
  if (!shown.length) return null;
  return h("ul", { class: "profile-links", "aria-label": "Links" }, shown.map((url) =>
    h("li", {}, h("a", { href: url.href, rel: "nofollow noopener noreferrer ugc", target: "_blank" },
      url.host.replace(/^www\./, "") + (url.pathname === "/" ? "" : url.pathname)))));
}

// A beat on the page; on one of someone else's beats, what this person did on it ("Mixed by Kay").
function beatItem(beat, credit) {
  return h("li", { class: "profile-beat card" },
    // The cover repeats the title's link for the pointer: out of the tab order and hidden from
    // screen readers, which have the title's.
    h("a", { href: beatPath(beat), class: "profile-beat-art", tabindex: "-1", "aria-hidden": "true" }, cover(beat)),
    h("div", {},
      h("h3", {}, h("a", { href: beatPath(beat) }, beat.title)),
      credit ? h("p", { class: "profile-roles" }, `${credit.labels.join(", ")} ${credit.name}`) : null,
      credit ? h("p", {}, "Beat of ", personLink(beat.beatmaker.display_name, beat.beatmaker.handle)) : null,
      h("p", { class: "muted" }, beatFacts(beat)),
      beat.price_from ? h("p", { class: "price" }, `From ${money(beat.price_from)}`) : null));
}

function section(id, title, items, empty) {
  return h("section", { class: "store-section", "aria-labelledby": id },
    h("h2", { id }, title),
    items.length ? h("ul", { class: "profile-beats" }, items) : h("p", { class: "muted" }, empty));
}

export async function profileView({ root, params }) {
  const profile = await api(`/profiles/${encodeURIComponent(params.handle)}`);
  document.title = `${profile.display_name} (@${profile.handle}) · Beat Market`;
  const avatar = profile.avatar_url
    ? h("img", { class: "avatar avatar-large", src: profile.avatar_url, alt: "" })
    : h("div", { class: "avatar avatar-large avatar-blank", "aria-hidden": "true" },
      [...profile.display_name][0] || "?");
  root.replaceChildren(
    h("div", { class: "profile-hero" }, avatar,
      h("div", {},
        h("h1", {}, profile.display_name),
        h("p", { class: "profile-handle muted" }, `@${profile.handle}`),
        profile.bio ? h("p", { class: "profile-bio" }, profile.bio) : null,
        links(profile))),
    section("profile-beats-title", "Beats", profile.beats.map((beat) => beatItem(beat)),
      "No beats in the store yet."),
    section("profile-credits-title", "Credits on other beats",
      profile.credits.map((credit) => beatItem(credit.beat, { labels: credit.role_labels, name: profile.display_name })),
      "No credits on other beats yet."));
}
