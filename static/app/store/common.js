// Pieces shared by the store's pages: cover art, facts line, play buttons, sign-in redirect,
// the way to the payment page.

import { UNSAFE_LINK, h, webUrl } from "../ui.js";
import { isPlaying, onPlayerChange, togglePlay } from "./player.js";

export function beatPath(beat) {
  return `/beats/${encodeURIComponent(beat.id)}`;
}

// "140 BPM · F# minor · trap · dark"
export function beatFacts(beat) {
  return [`${beat.bpm} BPM`, beat.key, beat.genre, beat.mood].filter(Boolean).join(" · ");
}

// The cover is decorative: the title always sits next to it. The browser picks the WebP rendition
// fitting the shown size (300 or 600 pixels); the JPEG (400, or 1400 on the beat's page) is for
// browsers without srcset. The covers first on screen load at once (`eager`), the very first
// (the largest paint of the page) before anything else; the others when scrolled near.
const CARD_SIZES = "(min-width: 40rem) 18rem, 7rem"; // as .beat-card-art in styles.css
const HERO_SIZES = "20rem"; // as .beat-hero-art

export function cover(beat, className = "cover", { eager = false, first = false } = {}) {
  if (!beat.cover_url) {
    return h("div", { class: `${className} cover-blank`, "aria-hidden": "true" }, (beat.title || "?").slice(0, 1));
  }
  const large = className.includes("cover-large");
  return h("img", {
    class: className, alt: "",
    sizes: large ? HERO_SIZES : CARD_SIZES,
    srcset: `${coverAt(beat.cover_url, 300)} 300w, ${coverAt(beat.cover_url, 600)} 600w`,
    src: coverAt(beat.cover_url, large ? 1400 : 400),
    loading: eager || first || large ? "eager" : "lazy",
    fetchpriority: first || large ? "high" : null,
  });
}

// The cover's address at a size, whatever query it already has.
function coverAt(address, size) {
  const url = new URL(address, location.origin);
  url.searchParams.set("size", String(size));
  return url.pathname + url.search;
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

// Sends the buyer to the payment page of a checkout the API opened, saying so in `result`.
export function openPaymentPage(checkout, result) {
  const url = webUrl(checkout.checkout_url);
  if (!url) throw new Error(UNSAFE_LINK);
  result.replaceChildren(h("p", { role: "status" }, "Opening the payment page…"));
  location.assign(url);
}
