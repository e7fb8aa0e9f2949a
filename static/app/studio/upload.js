// /studio/upload: the upload form, a real progress bar while the files are sent (with Cancel),
// then the beat's processing followed until it is published or fails. Nothing typed is lost on
// errors or when the upload is cancelled.

import { api, sendFile } from "../api.js";
import { busy, field, formValues, h } from "../ui.js";
import { beatFields, checkBeatFields } from "./beat-fields.js";
import { poll } from "../poll.js";
import { clearFieldErrors, holdsByBeat, markInvalid, showFormError, statusBadge, statusExplanation, statusLine, studioPage } from "./common.js";
import { acceptAttribute, fileProblem } from "./file-types.js";

const POLL_SECONDS = 1.5;
// The upload fields, the API's name for what each accepts, and how a message names them.
const FILE_FIELDS = [["file", "master", "the master"], ["stems", "stems", "stems"], ["cover", "cover", "a cover"]];

export async function uploadView({ root }) {
  const [versions, formats] = await Promise.all([api("/me/beats"), api("/uploads/formats")]);
  const page = new UploadPage(versions, formats);
  root.replaceChildren(studioPage({ title: "Upload a beat" }, page.element));
  return () => page.close();
}

class UploadPage {
  constructor(versions, formats) {
    this.formats = formats;
    this.objectUrls = [];
    this.stopPolling = () => {};
    this.errors = h("div");
    this.masterPreview = h("div", { class: "studio-file-preview" });
    this.coverPreview = h("div", { class: "studio-file-preview" });
    this.form = this.buildForm(versions);
    this.progress = new UploadProgress(() => this.reset());
    this.element = h("div", { class: "studio-upload" }, this.form, this.progress.element);
  }

  buildForm(versions) {
    const formats = this.formats;
    const master = h("input", { name: "file", type: "file", accept: acceptAttribute(formats.master), required: true });
    const stems = h("input", { name: "stems", type: "file", accept: acceptAttribute(formats.stems) });
    const cover = h("input", { name: "cover", type: "file", accept: acceptAttribute(formats.cover) });
    master.addEventListener("change", () => this.chosen(master) && this.preview(master, this.masterPreview, "audio"));
    stems.addEventListener("change", () => this.chosen(stems));
    cover.addEventListener("change", () => this.chosen(cover) && this.preview(cover, this.coverPreview, "img"));
    const form = h("form", { class: "card", novalidate: true, "aria-label": "Beat upload" },
      this.errors,
      field("Master audio file", master, formats.master.description),
      this.masterPreview,
      ...beatFields({}, versions),
      field("Stems (ZIP)", stems, `Optional, needed for trackout and exclusive tiers: ${formats.stems.description}`),
      field("Cover image", cover, `Optional: ${formats.cover.description}`),
      this.coverPreview,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Upload beat")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(form.querySelector("button[type=submit]"), () => this.submit());
    });
    return form;
  }

  // A file the API would refuse by its kind or size is refused here, before a long upload.
  problems() {
    const problems = {};
    for (const [name, kind, what] of FILE_FIELDS) {
      const problem = fileProblem(this.form.elements[name].files[0], this.formats[kind], what);
      if (problem) problems[name] = [problem];
    }
    return problems;
  }

  // Called when a file is picked: true when it can be sent; otherwise the field says why.
  chosen(input) {
    const kind = FILE_FIELDS.find(([name]) => name === input.name);
    const problem = fileProblem(input.files[0], this.formats[kind[1]], kind[2]);
    const shown = input.getAttribute("aria-describedby");
    if (shown) document.getElementById(shown)?.remove();
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
    if (!problem) return true;
    if (input === this.form.elements.file) this.masterPreview.replaceChildren();
    if (input === this.form.elements.cover) this.coverPreview.replaceChildren();
    input.value = "";
    markInvalid(input, [problem]);
    return false;
  }

  // A local look or listen at a chosen file before it is sent.
  preview(input, target, kind) {
    const file = input.files[0];
    if (!file) { target.replaceChildren(); return; }
    const url = URL.createObjectURL(file);
    this.objectUrls.push(url);
    target.replaceChildren(kind === "audio"
      ? h("audio", { controls: true, preload: "metadata", src: url, "aria-label": `Listen to ${file.name}` })
      : h("img", { src: url, alt: "Cover preview", class: "studio-cover-preview" }));
  }

  async submit() {
    clearFieldErrors(this.form);
    this.errors.replaceChildren();
    const values = formValues(this.form);
    const problems = { ...checkBeatFields(values), ...this.problems() };
    if (!this.form.elements.file.files.length) problems.file = ["Choose the beat's audio file."];
    if (Object.keys(problems).length) {
      showFormError(this.form, this.errors, { message: "Some fields need attention.", details: problems });
      return;
    }
    this.stopPolling();
    this.progress.start(values.title);
    let beat;
    const sending = sendFile("/beats", this.formData(), { onProgress: (fraction) => this.progress.sent(fraction) });
    this.sending = sending;
    this.progress.cancellable(() => sending.abort());
    try {
      beat = await sending.done;
    } catch (error) {
      if (error.name === "AbortError") {
        this.progress.cancelled();
        return;
      }
      this.progress.failed(error);
      showFormError(this.form, this.errors, error);
      return;
    } finally {
      this.sending = null;
      this.progress.cancellable(null);
    }
    this.progress.accepted(beat);
    this.follow(beat);
  }

  // Only what was filled in: an empty key or genre would be refused as a value.
  formData() {
    const data = new FormData();
    for (const [name, value] of new FormData(this.form).entries()) {
      if (value instanceof File ? value.size > 0 || value.name : String(value).trim() !== "") {
        data.append(name, value instanceof File ? value : String(value).trim());
      }
    }
    return data;
  }

  follow(beat) {
    if (beat.status !== "processing") { this.settle(beat); return; }
    this.stopPolling = poll(async () => {
      const fresh = await api(`/beats/${encodeURIComponent(beat.id)}`);
      if (fresh.status === "processing") return false;
      await this.settle(fresh);
      return true;
    }, POLL_SECONDS);
  }

  // A beat held by moderation (for instance waiting for review) says why.
  async settle(beat) {
    let holds = [];
    try {
      if (beat.status === "taken_down") holds = (await holdsByBeat())[beat.id] || [];
    } catch { /* the status alone still says enough */ }
    this.progress.settled(beat, holds.join(" ") || statusExplanation(beat));
  }

  // An empty form for the next beat.
  reset() {
    this.stopPolling();
    this.form.reset();
    clearFieldErrors(this.form);
    for (const target of [this.errors, this.masterPreview, this.coverPreview]) target.replaceChildren();
    this.progress.element.hidden = true;
    this.form.elements.file.focus();
  }

  close() {
    this.stopPolling();
    if (this.sending) this.sending.abort();
    for (const url of this.objectUrls) URL.revokeObjectURL(url);
    for (const audio of this.element.querySelectorAll("audio")) audio.pause();
  }
}

// The progress panel: the bar while sending, then the beat's status until it settles.
class UploadProgress {
  constructor(onAnother) {
    this.onAnother = onAnother;
    this.bar = h("progress", { max: 1, value: 0 });
    this.percent = h("span", { class: "progress-percent" }, "0%");
    this.badge = h("span");
    this.status = statusLine();
    this.next = h("div", { class: "actions" });
    this.cancel = h("button", { type: "button", class: "danger", hidden: true }, "Cancel upload");
    this.element = h("section", { class: "card upload-progress", "aria-labelledby": "upload-progress-title", hidden: true },
      h("h2", { id: "upload-progress-title" }, "Upload"),
      h("label", { class: "field" }, h("span", { class: "field-label" }, "Upload progress"), this.bar),
      h("p", { class: "progress-line" }, this.percent, " ", this.badge, this.cancel),
      this.status, this.next);
  }

  start(title) {
    this.element.hidden = false;
    this.show(0);
    this.badge.replaceChildren();
    this.next.replaceChildren();
    this.status.textContent = `Uploading “${title}”…`;
    this.element.scrollIntoView({ block: "nearest" });
  }

  sent(fraction) {
    this.show(fraction);
    // Once every byte is sent the server is checking the files: too late to cancel.
    if (fraction >= 1) this.cancellable(null);
  }

  // While the files are sent, Cancel stops the upload (`stop`); null hides it.
  cancellable(stop) {
    this.cancel.onclick = stop;
    this.cancel.hidden = !stop;
  }

  cancelled() {
    this.status.textContent = "Upload cancelled: nothing was stored. The form keeps what you typed.";
  }

  show(fraction) {
    this.bar.value = fraction;
    this.bar.textContent = `${Math.round(fraction * 100)}%`;
    this.percent.textContent = `${Math.round(fraction * 100)}% sent`;
  }

  failed(error) {
    this.status.textContent = `The upload was refused: ${error.message}`;
  }

  accepted(beat) {
    this.show(1);
    this.badge.replaceChildren(statusBadge(beat.status));
    this.status.textContent = "Uploaded. Rendering the preview with your voice tag…";
  }

  settled(beat, explanation) {
    this.badge.replaceChildren(statusBadge(beat.status));
    const editLink = h("a", { class: "button primary", href: `/studio/beats/${encodeURIComponent(beat.id)}` },
      "Edit credits and prices");
    if (beat.status === "failed") {
      this.status.textContent = `Processing failed: ${beat.failure_reason || "no reason was given"}. Fix the file and upload again.`;
      this.next.replaceChildren();
    } else {
      this.status.textContent = beat.status === "published"
        ? `“${beat.title}” is published. Set its prices so it can be bought.`
        : `“${beat.title}” is uploaded. ${explanation || ""}`.trim();
      this.next.replaceChildren(editLink, h("a", { class: "button", href: "/studio" }, "All your beats"),
        h("button", { type: "button", onclick: this.onAnother }, "Upload another beat"));
    }
  }
}
