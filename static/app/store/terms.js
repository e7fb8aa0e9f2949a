// License terms in plain words, for offers on the beat page and for frozen terms on orders
// and licenses. Every phrase comes from the numbers the API sends: null means unlimited.

import { h } from "../ui.js";

const LIMITS = [
  ["distribution_copies", "copy sold or downloaded", "copies sold or downloaded"],
  ["audio_streams", "audio stream", "audio streams"],
  ["music_videos", "music video", "music videos"],
  ["radio_stations", "radio station broadcasting it", "radio stations broadcasting it"],
  ["paid_performances", "paid live performance", "paid live performances"],
];

const DELIVERABLES = { mp3: "MP3", wav: "WAV", stems: "stems (track-outs, ZIP)" };

const SAMPLES = {
  none: "No samples: everything in the beat is original.",
  cleared: "Contains samples the beatmaker declares cleared.",
  uncleared: "Contains uncleared samples: clearing them is the buyer's responsibility.",
};

// "Up to 10,000 audio streams", "Unlimited music videos", "No radio stations broadcasting it"
export function limitPhrase(value, singular, plural) {
  if (value === null || value === undefined) return `Unlimited ${plural}`;
  if (value === 0) return `No ${plural}`;
  return `Up to ${Number(value).toLocaleString("en")} ${value === 1 ? singular : plural}`;
}

export function limitPhrases(limits = {}) {
  return LIMITS.filter(([name]) => name in limits)
    .map(([name, singular, plural]) => limitPhrase(limits[name], singular, plural));
}

export function deliverablesPhrase(deliverables = []) {
  const words = deliverables.map((kind) => DELIVERABLES[kind] || kind);
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

export function termPhrase(termYears) {
  if (termYears === null || termYears === undefined) return "Perpetual: the license never ends.";
  return `Term: ${termYears} ${termYears === 1 ? "year" : "years"} from purchase.`;
}

export function kindPhrase(kind) {
  return kind === "exclusive"
    ? "Exclusive: sold once; the beat leaves the store."
    : "Lease: the beatmaker may license the beat to other artists too.";
}

function percent(bps) {
  return `${(bps / 100).toLocaleString("en", { maximumFractionDigits: 2 })}%`;
}

// What an offer on the beat page promises. The credit line is the beat's own.
export function offerTerms(offer, creditLine) {
  return [
    kindPhrase(offer.kind),
    `Files: ${deliverablesPhrase(offer.deliverables)}.`,
    ...limitPhrases(offer.limits).map((phrase) => `${phrase}.`),
    termPhrase(offer.term_years),
    creditLine ? `Credit required: “${creditLine}”.` : null,
  ].filter(Boolean);
}

// Terms frozen at sale (order lines and licenses) carry a few more facts.
export function frozenTerms(terms = {}) {
  const lines = [
    kindPhrase(terms.kind),
    `Files: ${deliverablesPhrase(terms.deliverables)}.`,
    ...limitPhrases(terms.limits).map((phrase) => `${phrase}.`),
    termPhrase(terms.term_years),
  ];
  if (terms.credit_line) lines.push(`Credit required: “${terms.credit_line}”.`);
  if (terms.publishing_share_bps !== undefined && terms.publishing_share_bps !== null) {
    lines.push(`The producer keeps ${percent(terms.publishing_share_bps)} of the publishing.`);
  }
  if (terms.master_points_bps) lines.push(`The producer receives ${percent(terms.master_points_bps)} master points.`);
  if (terms.content_id) {
    lines.push(terms.content_id === "allowed"
      ? "You may register your song with Content ID."
      : "You may not register the beat with Content ID.");
  }
  if (terms.samples && SAMPLES[terms.samples]) lines.push(SAMPLES[terms.samples]);
  return lines;
}

export function termsList(lines) {
  return h("ul", { class: "terms-list" }, lines.map((line) => h("li", {}, line)));
}

export function samplesPhrase(samples) {
  return SAMPLES[samples] || "";
}
