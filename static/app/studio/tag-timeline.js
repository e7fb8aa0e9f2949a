// The picture of where the voice tag lands in a preview: a bar for the beat, a mark for each
// tag, placed the way previews are rendered (audio/preview.py): the first tag at first_at
// (moved earlier only when the beat is too short for it), then one every interval to the end.

import { duration, h } from "../ui.js";

// Marks carry their time as a label until they would crowd each other.
const MAX_LABELLED_MARKS = 12;
const LABEL_WIDTH_PX = 34;

export function tagStarts({ beatMs, tagMs, intervalMs, firstAtMs }) {
  const first = Math.min(firstAtMs, Math.max(0, beatMs - tagMs));
  const starts = [];
  for (let at = first; at < beatMs; at += intervalMs) starts.push(Math.round(at));
  return starts;
}

export class TagTimeline {
  constructor() {
    this.summary = h("p", { class: "timeline-summary", role: "status", "aria-live": "polite" });
    this.marks = h("ol", { class: "tag-marks", "aria-label": "Where the tag lands" });
    this.scale = h("div", { class: "timeline-scale", "aria-hidden": "true" });
    this.element = h("figure", { class: "tag-timeline" },
      h("div", { class: "timeline-track" }, this.marks), this.scale, h("figcaption", {}, this.summary));
  }

  draw({ beatMs, tagMs, intervalMs, firstAtMs, gainDb }) {
    const starts = tagStarts({ beatMs, tagMs, intervalMs, firstAtMs });
    const width = `${Math.max((tagMs / beatMs) * 100, 0.6)}%`;
    // Louder tags are drawn darker: -30 dB faint, +10 dB solid.
    const opacity = String(0.35 + 0.65 * ((gainDb + 30) / 40));
    const roomPerMark = this.marks.clientWidth / Math.max(starts.length, 1);
    this.marks.classList.toggle("dense", starts.length > MAX_LABELLED_MARKS || roomPerMark < LABEL_WIDTH_PX);
    this.marks.replaceChildren(...starts.map((at) => {
      const mark = h("li", { class: "tag-mark", dataset: { seconds: String(at / 1000) } },
        h("span", { class: "visually-hidden" }, "Tag at "), h("span", { class: "mark-time" }, duration(at)));
      mark.style.left = `${(at / beatMs) * 100}%`;
      mark.style.width = width;
      mark.style.opacity = opacity;
      return mark;
    }));
    this.scale.replaceChildren(...minuteTicks(beatMs));
    this.summary.textContent = summaryInWords(starts, beatMs);
  }

  clear(message) {
    this.marks.replaceChildren();
    this.scale.replaceChildren();
    this.summary.textContent = message;
  }
}

function minuteTicks(beatMs) {
  const ticks = [];
  for (let at = 0; at <= beatMs; at += 60_000) {
    const tick = h("span", { class: "tick" }, duration(at));
    tick.style.left = `${(at / beatMs) * 100}%`;
    ticks.push(tick);
  }
  return ticks;
}

function summaryInWords(starts, beatMs) {
  const times = starts.map(duration);
  const listed = times.length > 8 ? `${times.slice(0, 6).join(", ")} … ${times.at(-1)}`
    : times.length > 1 ? `${times.slice(0, -1).join(", ")} and ${times.at(-1)}` : times[0];
  return `${starts.length} ${starts.length === 1 ? "tag" : "tags"} in a ${duration(beatMs)} beat, at ${listed}.`;
}
