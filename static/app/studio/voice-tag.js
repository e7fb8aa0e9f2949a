// /studio/voice-tag: the producer tag mixed over every preview, where it lands, and how loud.
// The timeline follows the placement inputs as they are typed, before anything is saved.

import { api, upload } from "../api.js";
import { busy, duration, field, formValues, h, notice } from "../ui.js";
import { attempt, clearFieldErrors, showFormError, statusLine, studioPage } from "./common.js";
import { acceptAttribute, fileProblem } from "./file-types.js";
import { TagTimeline } from "./tag-timeline.js";

// The platform's default tag lasts this long (used when no tag of one's own is uploaded).
const DEFAULT_TAG_MS = 2769;
const SAMPLE_LENGTHS = [60, 120, 180, 240];
const MAX_BEAT_LENGTHS = 5;
const LIMITS = {
  interval_seconds: [5, 120, "The interval is from 5 to 120 seconds."],
  first_at_seconds: [0, 60, "The first tag comes from 0 to 60 seconds in."],
  gain_db: [-30, 10, "The gain is from -30 to +10 dB."],
};

export async function voiceTagView({ root }) {
  const [tag, beats, formats] = await Promise.all([api("/me/voice-tag"), api("/me/beats"), api("/uploads/formats")]);
  const page = new VoiceTagPage(tag, beats, formats.voice_tag);
  root.replaceChildren(studioPage({ title: "Voice tag" }, page.element));
  page.drawTimeline();
  return () => page.close();
}

class VoiceTagPage {
  constructor(tag, beats, tagFormat) {
    this.tagFormat = tagFormat;
    this.tag = tag;
    this.beats = beats;
    const sampleBeat = beats.find((beat) => beat.status === "published" && beat.preview_url);
    this.objectUrls = [];
    this.current = h("div");
    this.currentErrors = h("div");
    this.placement = this.placementForm();
    this.element = h("div", { class: "studio-columns voice-tag" },
      h("div", {}, this.placement, this.previewCard(sampleBeat)),
      h("div", {}, this.currentCard(), this.uploadForm()));
    this.showCurrent();
  }

  tagMs() {
    return this.tag.duration_ms || DEFAULT_TAG_MS;
  }

  currentCard() {
    return h("section", { class: "card", "aria-labelledby": "current-tag-title" },
      h("h2", { id: "current-tag-title" }, "Your tag"), this.currentErrors, this.current);
  }

  showCurrent() {
    const words = this.tag.custom ? `Your own tag, ${(this.tag.duration_ms / 1000).toFixed(1)} seconds long, is mixed over your previews.`
      : "The platform's default tag is mixed over your previews until you upload your own.";
    const reset = this.tag.custom ? h("button", { type: "button" }, "Use the default tag instead") : null;
    if (reset) {
      reset.addEventListener("click", () => busy(reset, () => attempt(this.currentErrors, async () => {
        this.tag = await api("/me/voice-tag", { method: "DELETE" });
        notice("Back to the default tag. Your previews are being rendered again.");
        this.showCurrent();
        this.drawTimeline();
      })));
    }
    this.current.replaceChildren(h("p", { class: "current-tag" }, words), ...(reset ? [reset] : []));
  }

  uploadForm() {
    const errors = h("div");
    const file = h("input", { name: "file", type: "file", accept: acceptAttribute(this.tagFormat), required: true });
    const listen = h("div", { class: "studio-file-preview" });
    const bar = h("progress", { max: 1, value: 0 });
    const progress = h("label", { class: "field", hidden: true }, h("span", { class: "field-label" }, "Tag upload progress"), bar);
    const status = statusLine();
    const send = h("button", { type: "submit", class: "primary" }, "Upload tag");
    file.addEventListener("change", () => {
      const chosen = file.files[0];
      if (!chosen) { listen.replaceChildren(); return; }
      const url = URL.createObjectURL(chosen);
      this.objectUrls.push(url);
      listen.replaceChildren(h("audio", { controls: true, src: url, "aria-label": `Listen to ${chosen.name}` }));
    });
    const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "upload-tag-title" },
      h("h2", { id: "upload-tag-title" }, "Upload a tag"), errors,
      field("Tag audio file", file, `${this.tagFormat.description} Listen to it here before sending.`),
      listen, progress, h("div", { class: "actions" }, send), status);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(send, async () => {
        clearFieldErrors(form);
        errors.replaceChildren();
        if (!file.files.length) {
          showFormError(form, errors, { message: "Choose the tag's audio file.", details: { file: ["Choose a file."] } });
          return;
        }
        const problem = fileProblem(file.files[0], this.tagFormat, "a voice tag");
        if (problem) {
          showFormError(form, errors, { message: problem, details: { file: [problem] } });
          return;
        }
        progress.hidden = false;
        status.textContent = "Uploading the tag…";
        const data = new FormData();
        data.append("file", file.files[0]);
        try {
          this.tag = await upload("/me/voice-tag", data, { method: "PUT", onProgress: (fraction) => { bar.value = fraction; } });
          bar.value = 1;
          status.textContent = "Tag uploaded. Your previews are being rendered again with it.";
          this.showCurrent();
          this.drawTimeline();
        } catch (error) {
          status.textContent = "";
          showFormError(form, errors, error);
        }
      });
    });
    return form;
  }

  placementForm() {
    const errors = h("div");
    const number = (name, value, step) => h("input", { name, type: "number", inputmode: "decimal", step, value,
      min: LIMITS[name][0], max: LIMITS[name][1] });
    this.timeline = new TagTimeline();
    this.length = h("select", { name: "sample_length" }, this.lengthChoices());
    const save = h("button", { type: "submit", class: "primary" }, "Save placement");
    const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "placement-title" },
      h("h2", { id: "placement-title" }, "Where it lands"), errors,
      h("div", { class: "row" },
        field("Interval (seconds)", number("interval_seconds", this.tag.interval_seconds, 0.5), "The time from one tag to the next."),
        field("First tag at (seconds)", number("first_at_seconds", this.tag.first_at_seconds, 0.5)),
        field("Gain (dB)", number("gain_db", this.tag.gain_db, 0.5), "How loud the tag is: 0 leaves it as recorded.")),
      field("Sample beat length", this.length, "Only for this picture: each preview uses its beat's own length."),
      this.timeline.element,
      h("div", { class: "actions" }, save));
    form.addEventListener("input", () => this.drawTimeline());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(save, () => this.savePlacement(form, errors));
    });
    return form;
  }

  // Round lengths, then the lengths of the beatmaker's newest beats.
  lengthChoices() {
    const timed = this.beats.filter((beat) => beat.duration_ms).slice(0, MAX_BEAT_LENGTHS);
    return [
      ...SAMPLE_LENGTHS.map((seconds) => h("option", { value: seconds, selected: seconds === 180 }, duration(seconds * 1000))),
      ...timed.map((beat) => h("option", { value: beat.duration_ms / 1000 }, `${beat.title} (${duration(beat.duration_ms)})`)),
    ];
  }

  placementValues() {
    const values = formValues(this.placement);
    const numbers = {};
    const problems = {};
    for (const [name, [low, high, message]] of Object.entries(LIMITS)) {
      const value = Number(values[name]);
      if (values[name] === "" || !Number.isFinite(value) || value < low || value > high) problems[name] = [message];
      numbers[name] = value;
    }
    return { numbers, problems, beatSeconds: Number(values.sample_length) };
  }

  drawTimeline() {
    const { numbers, problems, beatSeconds } = this.placementValues();
    if (problems.interval_seconds || problems.first_at_seconds) {
      this.timeline.clear("Enter an interval and a first position in range to see where the tag lands.");
      return;
    }
    this.timeline.draw({
      beatMs: beatSeconds * 1000, tagMs: this.tagMs(), intervalMs: numbers.interval_seconds * 1000,
      firstAtMs: numbers.first_at_seconds * 1000, gainDb: problems.gain_db ? 0 : numbers.gain_db,
    });
  }

  async savePlacement(form, errors) {
    clearFieldErrors(form);
    errors.replaceChildren();
    const { numbers, problems } = this.placementValues();
    if (Object.keys(problems).length) {
      showFormError(form, errors, { message: "Some values are out of range.", details: problems });
      return;
    }
    try {
      this.tag = await api("/me/voice-tag", { method: "PATCH", json: numbers });
      notice("Placement saved. Your previews are being rendered again.");
    } catch (error) {
      showFormError(form, errors, error);
    }
  }

  previewCard(sampleBeat) {
    return h("section", { class: "card", "aria-labelledby": "hear-title" },
      h("h2", { id: "hear-title" }, "Hear it"),
      sampleBeat ? [
        h("p", {}, `Your latest preview, “${sampleBeat.title}”, with the tag as it was last rendered. `,
          "After a change the previews take a moment to be rendered again."),
        h("audio", { controls: true, preload: "none", src: sampleBeat.preview_url, "aria-label": `Preview of ${sampleBeat.title}` }),
      ] : h("p", {}, "Once one of your beats is published, its preview plays here with your tag in it."));
  }

  close() {
    for (const audio of this.element.querySelectorAll("audio")) audio.pause();
    for (const url of this.objectUrls) URL.revokeObjectURL(url);
  }
}
