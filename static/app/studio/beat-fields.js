// A beat's descriptive fields, shared by the upload form and the beat editor.

import { api } from "../api.js";
import { field, h } from "../ui.js";

export const BPM_MIN = 40;
export const BPM_MAX = 300;

const SAMPLE_CHOICES = [
  ["none", "No samples"],
  ["cleared", "Samples, all cleared"],
  ["uncleared", "Samples not cleared (cannot be sold exclusively)"],
];

let listIds = 0;

// The fields, filled from `beat` when editing. `versions` are the beatmaker's other beats,
// offered for "Version of".
export function beatFields(beat = {}, versions = []) {
  const number = ++listIds;
  const [keyList, genreList, moodList] = ["keys", "genres", "moods"].map((name) => h("datalist", { id: `beat-${name}-${number}` }));
  suggestWords({ keys: keyList, genres: genreList, moods: moodList });
  return [
    field("Title", h("input", { name: "title", required: true, maxlength: 120, value: beat.title || "" })),
    h("div", { class: "row" },
      field("BPM", h("input", { name: "bpm", type: "number", inputmode: "numeric", required: true,
        min: BPM_MIN, max: BPM_MAX, step: 1, value: beat.bpm ?? "" }), `${BPM_MIN} to ${BPM_MAX}`),
      field("Key", h("input", { name: "key", list: keyList.id, autocomplete: "off", value: beat.key || "" }),
        "e.g. F#m, F sharp minor, Bb or 11A"),
      keyList),
    h("div", { class: "row" },
      field("Genre", h("input", { name: "genre", list: genreList.id, autocomplete: "off", maxlength: 40, value: beat.genre || "" }),
        "One buyers filter by, or your own"),
      field("Mood", h("input", { name: "mood", list: moodList.id, autocomplete: "off", maxlength: 40, value: beat.mood || "" }),
        "One buyers filter by, or your own"),
      genreList, moodList),
    field("Tags", h("input", { name: "tags", value: (beat.tags || []).join(", ") }), "Comma separated, up to 15"),
    field("Description", h("textarea", { name: "description", maxlength: 5000 }, beat.description || "")),
    field("Samples", h("select", { name: "samples" }, SAMPLE_CHOICES.map(([value, words]) =>
      h("option", { value, selected: (beat.samples || "none") === value }, words)))),
    versions.length ? field("Version of", h("select", { name: "version_of" },
      h("option", { value: "" }, "Not a version of another beat"),
      versions.map((other) => h("option", { value: other.id, selected: beat.version_of === other.id }, other.title))),
    "For a remake or alternate mix: selling the original's exclusive rights ends this one's sales too.") : null,
  ];
}

// The store's keys, genres and moods (GET /catalog/vocabulary) as suggestions: genres and
// moods stay free text, and a key may be typed in any common spelling.
function suggestWords(lists) {
  api("/catalog/vocabulary").then((vocabulary) => {
    for (const [name, list] of Object.entries(lists)) {
      list.replaceChildren(...vocabulary[name].map((entry) => h("option", { value: entry.value })));
    }
  }, () => {}); // without suggestions the fields still take any value
}

// Checks a person can fix before anything is sent: {field: [messages]}.
export function checkBeatFields(values) {
  const problems = {};
  if (!values.title) problems.title = ["A title is needed."];
  const bpm = Number(values.bpm);
  if (!Number.isInteger(bpm) || bpm < BPM_MIN || bpm > BPM_MAX || values.bpm === "") {
    problems.bpm = [`BPM must be a whole number from ${BPM_MIN} to ${BPM_MAX}.`];
  }
  return problems;
}

// The fields as a PATCH body: numbers as numbers, blanks as null, tags as a list.
export function beatChanges(values) {
  return {
    title: values.title,
    bpm: Number(values.bpm),
    key: values.key || null,
    genre: values.genre || null,
    mood: values.mood || null,
    tags: splitTags(values.tags),
    description: values.description || "",
    samples: values.samples || "none",
    ...("version_of" in values ? { version_of: values.version_of || null } : {}),
  };
}

export function splitTags(text) {
  return String(text || "").split(",").map((tag) => tag.trim()).filter(Boolean);
}
