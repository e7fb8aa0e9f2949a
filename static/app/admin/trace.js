// /admin/trace: leak tracing. An admin uploads a suspect recording (an excerpt, re-encoded,
// sung over...); the answer is the license whose delivered MP3 it comes from, with the buyer,
// the date and the confidence, or "No mark found". Evidence for a takedown.

import { upload } from "../api.js";
import { busy, dateTime, errorBox, field, h } from "../ui.js";
import { adminPage } from "./common.js";

function confidenceText(result) {
  if (result.chance > 1e-6) return `${(100 * result.confidence).toFixed(4)}%`;
  const chance = result.chance > 0 ? result.chance.toExponential(1) : "below 1e-300";
  return `over 99.9999% (chance of a false match ${chance})`;
}

function answer(result) {
  if (!result.found) {
    return h("section", { class: "trace-answer", "aria-live": "polite" },
      h("h2", {}, "No mark found"),
      h("p", {}, result.beat_title
        ? `The recording is the beat "${result.beat_title}", but it carries the mark of none of its licenses `
          + "(an exclusive's files, or a copy made from elsewhere)."
        : "The recording matches no beat whose licenses carry a mark."));
  }
  const rows = [
    ["License", h("a", { href: `/licenses/verify/${encodeURIComponent(result.license_number)}` }, result.license_number)],
    ["Buyer", `${result.buyer_name} (${result.buyer_id})`],
    ["Issued", dateTime(result.issued_at)],
    ["Beat", result.beat_title],
    ["Confidence", confidenceText(result)],
    ["Score", `z = ${result.z_score}`],
    ["Starts", `${result.offset_seconds} s into the master`],
  ];
  return h("section", { class: "trace-answer", "aria-live": "polite" },
    h("h2", {}, `License ${result.license_number}`),
    h("dl", { class: "terms admin-terms" }, rows.flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value)])));
}

export async function traceView({ root }) {
  const input = h("input", { type: "file", name: "file", required: true, accept: "audio/*,.mp3,.m4a,.wav,.flac,.ogg" });
  const button = h("button", { type: "submit" }, "Trace");
  const result = h("div");
  const form = h("form", { class: "trace-form" },
    field("Suspect recording", input, "MP3, AAC, WAV, FLAC or OGG; at least 5 seconds of the beat."), button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, async () => {
      result.replaceChildren(h("p", { class: "muted" }, "Listening for a mark…"));
      try {
        result.replaceChildren(answer(await upload("/admin/trace", new FormData(form))));
      } catch (error) {
        result.replaceChildren(errorBox(error));
      }
    });
  });
  adminPage(root, "Leak tracing",
    h("p", {}, "Every lease's MP3 carries an inaudible mark of its license. Upload a recording found ",
      "elsewhere to learn which license it was delivered under. A license is named only when the mark ",
      "is certain; otherwise the answer is “No mark found”."),
    form, result);
}
