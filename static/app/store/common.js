// Pieces shared by the store's pages: cover art, facts line, play buttons, sign-in redirect.

import { h } from "../ui.js";
import { isPlaying, onPlayerChange, togglePlay } from "./player.js";

export function beatPath(beat) {
  return `/beats/${encodeURIComponent(beat.id)}`;
}

// "140 BPM · F# minor · trap · dark"
export function beatFacts(beat) {
  return [`${beat.bpm} BPM`, beat.key, beat.genre, beat.mood].filter(Boolean).join(" · ");
}

// The cover is decorative: the title always sits next to it. Listings load the 400-pixel
// rendition; the beat's page (cover-large) the 1400-pixel one.
export function cover(beat, className = "cover") {
  const large = className.includes("cover-large");
  const src = beat.cover_url && (large ? beat.cover_url : `${beat.cover_url}?size=400`);
  if (src) return h("img", { class: className, src, alt: "", loading: "lazy" });
  return h("div", { class: `${className} cover-blank`, "aria-hidden": "true" }, (beat.title || "?").slice(0, 1));
}

export function tagLinks(tags = []) {
  if (!tags.length) return null;
  return h("ul", { class: "tags", "aria-label": "Tags" },
    tags.map((tag) => h("li", {}, h("a", { href: `/?tag=${encodeURIComponent(tag)}` }, `#${tag}`))));
}

// A play/pause button for one beat; syncPlayButtons keeps its label true to the player.
export function playButton(beat) {
  if (!beat.preview_url) {
    return h("button", { type: "button", class: "play-button", disabled: true,
      "aria-label": `No preview of ${beat.title} yet` }, h("span", { "aria-hidden": "true" }, "▶"));
  }
  const button = h("button", { type: "button", class: "play-button", dataset: { beatId: beat.id },
    onclick: () => togglePlay(beat) }, h("span", { "aria-hidden": "true" }, "▶"));
  button.dataset.title = beat.title;
  showPlayState(button);
  return button;
}

function showPlayState(button) {
  const playing = isPlaying(button.dataset.beatId);
  button.setAttribute("aria-label", `${playing ? "Pause" : "Play"} ${button.dataset.title}`);
  button.classList.toggle("playing", playing);
  button.firstChild.textContent = playing ? "❚❚" : "▶";
}

// Keeps every play button inside `root` in step with the player; returns the unsubscribe.
export function followPlayer(root) {
  return onPlayerChange(() => root.querySelectorAll("button[data-beat-id]").forEach(showPlayState));
}

// Pages for signed-in visitors send the others to sign in, and back here afterwards.
export function sendToSignIn(navigate) {
  return navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
}
