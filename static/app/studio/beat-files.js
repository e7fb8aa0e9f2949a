// A beat's files on its studio page (GET /beats/:id/files): replace the master, the stems or the
// cover, with a progress bar and a Cancel button while the file is sent; follow a new master while
// its preview is rendered (the current one stays on sale until then), cancel it, or try again
// what failed. Licenses already sold keep the files they were sold with.

import { api, sendFile } from "../api.js";
import { busy, duration, field, h, notice } from "../ui.js";
import { poll } from "../poll.js";
import { markInvalid, showFormError, statusLine } from "./common.js";
import { acceptAttribute, fileProblem } from "./file-types.js";

const POLL_SECONDS = 2;

// Each replaceable file: its route, form field, entry in GET /uploads/formats, and words.
const KINDS = [
  { route: "master", name: "file", format: "master", what: "the master", label: "New master audio file",
    replace: "Replace master", add: "Replace master" },
  { route: "stems", name: "stems", format: "stems", what: "stems", label: "New stems (ZIP)",
    replace: "Replace stems", add: "Add stems" },
  { route: "cover", name: "cover", format: "cover", what: "a cover", label: "New cover image",
    replace: "Replace cover", add: "Add cover" },
];

// The card, filled once the files and accepted formats are read. `onSettled(beat)` is called with
// the beat as it is after a change that shows elsewhere on the page (a new preview or cover).
export function filesEditor(beat, onSettled) {
  const card = new FilesCard(beat, onSettled);
  card.load();
  return card;
}

class FilesCard {
  constructor(beat, onSettled) {
    Object.assign(this, { beat, onSettled });
    this.stopPolling = () => {};
    this.sending = null;
    this.errors = h("div");
    this.body = h("div", {}, h("p", { class: "muted" }, "Reading the beat's files…"));
    this.status = statusLine();
    this.element = h("section", { class: "card beat-files", "aria-labelledby": "files-title" },
      h("h2", { id: "files-title" }, "Files"), this.errors, this.status, this.body);
  }

  get path() {
    return `/beats/${encodeURIComponent(this.beat.id)}`;
  }

  async load() {
    try {
      const [files, formats] = await Promise.all([api(`${this.path}/files`), api("/uploads/formats")]);
      this.formats = formats;
      this.show(files);
    } catch (error) {
      this.body.replaceChildren();
      showFormError(h("form"), this.errors, error);
    }
  }

  show(files) {
    this.files = files;
    this.body.replaceChildren(...[
      h("ul", { class: "beat-file-list" },
        h("li", {}, h("strong", {}, "Master: "), masterInWords(files.master)),
        h("li", {}, h("strong", {}, "Stems: "), files.stems ? `ZIP, ${sizeInWords(files.stems.size)}` : "none"),
        h("li", {}, h("strong", {}, "Cover: "), files.cover_url ? "yes" : "none")),
      this.waiting(files),
      h("p", { class: "hint" }, "Licenses already sold keep the files they were sold with; new sales get the new ones."),
      ...KINDS.map((kind) => this.replaceForm(kind, files))].filter(Boolean));
    if (files.replacement && files.replacement.status === "pending") this.follow();
  }

  // A new master waiting for its preview, one whose preview failed, or a beat whose processing failed.
  waiting(files) {
    const box = h("div", { class: "studio-confirm", role: "group", "aria-label": "New master" });
    const replacement = files.replacement;
    if (replacement && replacement.status === "pending") {
      box.append(h("p", {}, `A new master (${masterInWords(replacement)}) is uploaded and its preview is being rendered. `
        + "The current master and preview stay until it is ready."), h("div", { class: "actions" }, this.cancelButton()));
      return box;
    }
    if (replacement) {
      box.append(h("p", { class: "error" }, `The new master could not be used: ${replacement.failure_reason}`),
        h("div", { class: "actions" }, this.retryButton(), this.cancelButton()));
      return box;
    }
    if (files.can_retry) {
      box.append(h("p", { class: "error" }, `Processing failed: ${files.failure_reason || "no reason was given"}`),
        h("p", {}, "Try again, or replace the master with a new export."), h("div", { class: "actions" }, this.retryButton()));
      return box;
    }
    return null;
  }

  retryButton() {
    const button = h("button", { type: "button", class: "primary" }, "Try again");
    button.addEventListener("click", () => busy(button, () => this.act(
      api(`${this.path}/retry`, { method: "POST" }), "Rendering again…")));
    return button;
  }

  cancelButton() {
    const button = h("button", { type: "button" }, "Cancel the new master");
    button.addEventListener("click", () => busy(button, () => this.act(
      api(`${this.path}/master/replacement`, { method: "DELETE" }), "The new master was cancelled: the beat keeps its master.")));
    return button;
  }

  async act(request, message) {
    this.errors.replaceChildren();
    try {
      const files = await request;
      this.status.textContent = message;
      await this.settle(files, message);
    } catch (error) {
      showFormError(h("form"), this.errors, error);
    }
  }

  // One form per file: pick, send with progress, and Cancel while it is being sent.
  replaceForm(kind, files) {
    const exists = kind.route === "master" || (kind.route === "stems" ? files.stems : files.cover_url);
    const format = this.formats[kind.format];
    const input = h("input", { name: kind.name, type: "file", accept: acceptAttribute(format) });
    const send = h("button", { type: "submit" }, exists ? kind.replace : kind.add);
    const bar = h("progress", { max: 1, value: 0, "aria-label": `${kind.replace}: upload progress` });
    const percent = h("span", { class: "progress-percent" }, "0%");
    const cancel = h("button", { type: "button", class: "danger" }, "Cancel upload");
    const progress = h("div", { class: "upload-progress", hidden: true }, bar, h("p", { class: "progress-line" }, percent, cancel));
    const errors = h("div");
    const form = h("form", { class: "beat-file-form", novalidate: true, "aria-label": exists ? kind.replace : kind.add },
      errors, field(kind.label, input, format.description), progress, h("div", { class: "actions" }, send));
    input.addEventListener("change", () => this.checkChosen(input, format, kind));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(send, () => this.replace(kind, form, { input, errors, progress, bar, percent, cancel }));
    });
    return form;
  }

  checkChosen(input, format, kind) {
    const shown = input.getAttribute("aria-describedby");
    if (shown) document.getElementById(shown)?.remove();
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
    const problem = fileProblem(input.files[0], format, kind.what);
    if (!problem) return true;
    input.value = "";
    markInvalid(input, [problem]);
    return false;
  }

  async replace(kind, form, parts) {
    const { input, errors, progress, bar, percent, cancel } = parts;
    errors.replaceChildren();
    if (!input.files.length) {
      showFormError(form, errors, { message: "Choose a file first.", details: { [kind.name]: [`Choose ${kind.what} to send.`] } });
      return;
    }
    if (!this.checkChosen(input, this.formats[kind.format], kind)) return;
    const data = new FormData();
    data.append(kind.name, input.files[0]);
    const shown = (fraction) => {
      bar.value = fraction;
      percent.textContent = `${Math.round(fraction * 100)}% sent`;
      cancel.hidden = fraction >= 1; // every byte sent: the server is checking it, too late to cancel
    };
    shown(0);
    progress.hidden = false;
    const upload = sendFile(`${this.path}/${kind.route}`, data, { method: "PUT", onProgress: shown });
    const stop = () => upload.abort();
    cancel.addEventListener("click", stop);
    this.sending = upload;
    this.status.textContent = `Sending ${input.files[0].name}…`;
    try {
      const files = await upload.done;
      form.reset();
      this.status.textContent = kind.route === "master"
        ? "New master received. Rendering its preview with your voice tag…" : "";
      await this.settle(files, kind.route === "master" ? "The new master and its preview are in place."
        : `${kind.route === "stems" ? "Stems" : "Cover"} saved.`);
    } catch (error) {
      if (error.name === "AbortError") {
        this.status.textContent = "Upload cancelled: nothing was changed.";
      } else {
        this.status.textContent = "";
        showFormError(form, errors, error);
      }
    } finally {
      cancel.removeEventListener("click", stop);
      progress.hidden = true;
      this.sending = null;
    }
  }

  // Shows the files; once nothing is waiting, the page shows the beat as it now is, and `message`.
  async settle(files, message) {
    this.show(files);
    if (files.replacement && files.replacement.status === "pending") return;
    const beat = await api(this.path);
    this.beat = beat;
    if (files.replacement && files.replacement.status === "failed") {
      this.status.textContent = "The new master could not be used: the beat keeps its master.";
      return;
    }
    notice(message);
    this.onSettled(beat);
  }

  follow() {
    this.stopPolling();
    this.stopPolling = poll(async () => {
      const files = await api(`${this.path}/files`);
      if (files.replacement && files.replacement.status === "pending") return false;
      await this.settle(files, "The new master and its preview are in place.");
      return true;
    }, POLL_SECONDS);
  }

  close() {
    this.stopPolling();
    if (this.sending) this.sending.abort();
  }
}

function masterInWords(master) {
  if (!master) return "none";
  const kind = [master.format ? master.format.toUpperCase() : null, master.lossless ? "lossless" : null].filter(Boolean).join(", ");
  return [kind, duration(master.duration_ms), sizeInWords(master.size)].filter(Boolean).join(" · ");
}

function sizeInWords(bytes) {
  if (bytes === null || bytes === undefined) return "";
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
