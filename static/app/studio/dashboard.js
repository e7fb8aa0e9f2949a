// /studio: the beatmaker's beats in every status, with a badge for each and links to edit.

import { api } from "../api.js";
import { date, h } from "../ui.js";
import { money } from "../money.js";
import { poll } from "../poll.js";
import { holdsByBeat, statusBadge, statusExplanation, studioPage } from "./common.js";

// While beats are processing, each of them is asked for again: after 3 s, then less often.
const REFRESH_SECONDS = 3;
const REFRESH_BACKOFF = 1.5;
const REFRESH_LONGEST_SECONDS = 30;
const MOST_LISTED = 500; // the most GET /me/beats answers at once

export async function dashboardView({ root }) {
  let beats = await myBeats();
  const holds = beats.some((beat) => beat.status === "taken_down") ? await holdsByBeat() : {};
  const list = h("div", { class: "studio-beats" });
  const summary = h("p", { class: "muted", role: "status", "aria-live": "polite" });
  const show = (items) => {
    summary.textContent = countsInWords(items);
    list.replaceChildren(items.length ? beatTable(items, holds) : emptyState());
  };
  show(beats);
  root.replaceChildren(studioPage({
    title: "Your beats", actions: [h("a", { class: "button primary", href: "/studio/upload" }, "Upload a beat")],
  }, summary, list));
  // Beats still processing change by themselves: refresh until none is left.
  if (!beats.some(isProcessing)) return undefined;
  return poll(async () => {
    const fresh = await Promise.all(beats.filter(isProcessing)
      .map((beat) => api(`/beats/${encodeURIComponent(beat.id)}`)));
    const byId = new Map(fresh.map((beat) => [beat.id, beat]));
    beats = beats.map((beat) => byId.get(beat.id) || beat);
    show(beats);
    return !beats.some(isProcessing);
  }, REFRESH_SECONDS, { backoff: REFRESH_BACKOFF, longest: REFRESH_LONGEST_SECONDS });
}

// The requests the page starts with, sent early by the router (see startPrefetch in main.js).
export function dashboardRequests() {
  return [["/me/beats", { query: { limit: MOST_LISTED } }]];
}

function myBeats() {
  return api(...dashboardRequests()[0]);
}

function isProcessing(beat) {
  return beat.status === "processing";
}

function countsInWords(beats) {
  if (!beats.length) return "";
  const published = beats.filter((beat) => beat.status === "published").length;
  const processing = beats.filter(isProcessing).length;
  const notOnSale = beats.filter(isNotOnSale).length;
  const counted = beats.length === MOST_LISTED ? `Your newest ${MOST_LISTED} beats` : `${beats.length} ${beats.length === 1 ? "beat" : "beats"}`;
  const parts = [counted, `${published} published`];
  if (notOnSale) parts.push(`${notOnSale} not on sale (no price)`);
  if (processing) parts.push(`${processing} processing`);
  return parts.join(", ") + ".";
}

function emptyState() {
  return h("div", { class: "card" },
    h("p", {}, "No beats yet."),
    h("p", {}, h("a", { href: "/studio/upload" }, "Upload your first beat"),
      " – it is published as soon as its preview is rendered."));
}

function beatTable(beats, holds) {
  return h("div", { class: "table-scroll" },
    h("table", { class: "studio-table" },
      h("caption", { class: "visually-hidden" }, "Your beats, newest first"),
      h("thead", {}, h("tr", {}, ["Title", "Status", "BPM", "Key", "From", "Plays", "Uploaded"]
        .map((heading) => h("th", { scope: "col" }, heading)))),
      h("tbody", {}, beats.map((beat) => beatRow(beat, holds[beat.id] || [])))));
}

function beatRow(beat, holds) {
  const path = `/studio/beats/${encodeURIComponent(beat.id)}`;
  let explanation = holds.length ? holds.join(" ") : beat.status === "published" ? null : statusExplanation(beat);
  // Published without a price: the store neither lists it nor finds it in a search.
  if (!explanation && isNotOnSale(beat)) explanation = h("a", { href: path }, "Not on sale: add a price");
  return h("tr", { dataset: { beatId: beat.id } },
    h("th", { scope: "row" }, h("a", { href: path }, beat.title)),
    h("td", {}, statusBadge(beat.status), explanation ? h("small", { class: "status-note" }, explanation) : null),
    h("td", {}, String(beat.bpm)),
    h("td", {}, beat.key || "–"),
    h("td", {}, priceCell(beat)),
    h("td", {}, beat.play_count.toLocaleString("en")),
    h("td", {}, date(beat.created_at)));
}

function isNotOnSale(beat) {
  return beat.status === "published" && !beat.price_from;
}

// The lowest price a buyer pays, for beats that are (or are about to be) in the store.
function priceCell(beat) {
  if (!["published", "processing"].includes(beat.status)) return h("span", { class: "muted" }, "not in the store");
  return beat.price_from ? money(beat.price_from) : h("span", { class: "muted" }, "no price");
}
