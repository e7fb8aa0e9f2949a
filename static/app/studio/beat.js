// /studio/beats/:id: one beat's details (PATCH), prices, credits, files, and archiving.

import { api } from "../api.js";
import { busy, count, formValues, h, notice } from "../ui.js";
import { money } from "../money.js";
import { beatChanges, beatFields, checkBeatFields } from "./beat-fields.js";
import { filesEditor } from "./beat-files.js";
import { poll } from "../poll.js";
import { serverCodes } from "../codes.js";
import { clearFieldErrors, holdsByBeat, showFormError, statusBadge, statusExplanation, studioPage } from "./common.js";
import { creditRoles, creditsEditor } from "./credits.js";
import { offersEditor } from "./offers.js";

const PUBLIC = ["published", "sold_exclusive"];
const POLL_SECONDS = 3;

export async function beatView({ root, params, user }) {
  const id = encodeURIComponent(params.id);
  const [beat, tiers, mine, codes] = await Promise.all([api(`/beats/${id}`), api("/license-tiers"), api("/me/beats"),
    serverCodes()]);
  if (beat.beatmaker.id !== user.id) {
    root.replaceChildren(studioPage({ title: beat.title }, h("p", {}, "This beat belongs to another beatmaker: only its owner can edit it.")));
    return undefined;
  }
  const page = new BeatPage(root, user, tiers, mine.filter((other) => other.id !== beat.id), creditRoles(codes));
  await page.render(beat);
  return () => page.close();
}

class BeatPage {
  constructor(root, user, tiers, otherBeats, creditRoles) {
    Object.assign(this, { root, user, tiers, otherBeats, creditRoles });
    this.stopPolling = () => {};
  }

  async render(beat) {
    this.close();
    this.beat = beat;
    this.price = h("p", { class: "studio-price-from" });
    this.showPrice(beat);
    this.badge = statusBadge(beat.status);
    this.summaryCard = this.summary(beat, await this.holds(beat));
    this.files = filesEditor(beat, (fresh) => this.render(fresh));
    this.root.replaceChildren(studioPage({ title: beat.title, actions: [this.badge] },
      this.summaryCard,
      h("div", { class: "studio-columns" },
        h("div", {}, offersEditor(beat, this.tiers, () => this.refreshPrice())),
        h("div", {}, this.detailsForm(beat), this.statusActions(beat), this.files.element)),
      creditsEditor(beat, this.user.id, this.creditRoles)));
    if (beat.status === "processing") this.stopPolling = poll(() => this.checkProcessing(), POLL_SECONDS);
  }

  async holds(beat) {
    return beat.status === "taken_down" ? (await holdsByBeat())[beat.id] || [] : [];
  }

  // A beat still processing is looked at again until it settles; then its badge and summary
  // change, and the forms keep whatever is being typed in them.
  async checkProcessing() {
    const fresh = await api(`/beats/${encodeURIComponent(this.beat.id)}`);
    if (fresh.status === "processing") return false;
    this.beat = fresh;
    const badge = statusBadge(fresh.status);
    const summary = this.summary(fresh, await this.holds(fresh));
    this.badge.replaceWith(badge);
    this.summaryCard.replaceWith(summary);
    Object.assign(this, { badge, summaryCard: summary });
    return true;
  }

  summary(beat, holds) {
    const explanation = holds.length ? holds.join(" ") : statusExplanation(beat);
    const isPublic = PUBLIC.includes(beat.status); // private files need the token, which <img> and <audio> cannot send
    return h("section", { class: "card beat-summary", "aria-label": "Summary" },
      isPublic && beat.cover_url ? h("img", { class: "studio-cover", src: beat.cover_url, alt: `Cover of ${beat.title}` }) : null,
      explanation ? h("p", { class: beat.status === "failed" ? "error" : "hint" }, explanation) : null,
      this.price,
      isPublic && beat.preview_url
        ? h("audio", { controls: true, preload: "none", src: beat.preview_url, "aria-label": `Preview of ${beat.title}` }) : null,
      h("p", { class: "muted" }, [beat.key, `${beat.bpm} BPM`, beat.genre, count(beat.play_count, "play")].filter(Boolean).join(" · ")),
      isPublic ? h("p", {}, h("a", { href: `/beats/${encodeURIComponent(beat.id)}` }, "See it in the store")) : null);
  }

  showPrice(beat) {
    this.price.textContent = beat.price_from ? `In the store from ${money(beat.price_from)}.` : "Not on sale: add a price under Prices. Until then the store neither lists it nor finds it.";
  }

  async refreshPrice() {
    const fresh = await api(`/beats/${encodeURIComponent(this.beat.id)}`);
    this.beat = fresh;
    this.showPrice(fresh);
  }

  detailsForm(beat) {
    const errors = h("div");
    const save = h("button", { type: "submit", class: "primary" }, "Save details");
    const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "details-title" },
      h("h2", { id: "details-title" }, "Details"), errors, ...beatFields(beat, this.otherBeats),
      freeDownloadSwitch(beat), h("div", { class: "actions" }, save));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(save, async () => {
        clearFieldErrors(form);
        errors.replaceChildren();
        const values = formValues(form);
        const problems = checkBeatFields(values);
        if (Object.keys(problems).length) {
          showFormError(form, errors, { message: "Some fields need attention.", details: problems });
          return;
        }
        try {
          const saved = await api(`/beats/${encodeURIComponent(beat.id)}`, { method: "PATCH",
            json: { ...beatChanges(values), free_download: form.elements.free_download.checked } });
          notice("Details saved.");
          await this.render(saved);
        } catch (error) {
          showFormError(form, errors, error);
        }
      });
    });
    return form;
  }

  // Archive (with a confirmation first), or publish an archived beat again.
  statusActions(beat) {
    const errors = h("div");
    const section = h("section", { class: "card", "aria-labelledby": "status-title" }, h("h2", { id: "status-title" }, "In the store"), errors);
    if (beat.status === "archived") {
      const again = h("button", { type: "button", class: "primary" }, "Publish again");
      again.addEventListener("click", () => busy(again, () => this.change(errors, { method: "PATCH", json: { status: "published" } }, "Published again.")));
      section.append(h("p", {}, "Archived beats are out of the store."), again);
    } else if (["published", "processing", "failed"].includes(beat.status)) {
      section.append(h("p", {}, "Archiving takes the beat out of the store. Licenses already sold stay valid."), this.archiveControl(beat, errors));
    } else {
      section.append(h("p", {}, statusExplanation(beat)));
    }
    return section;
  }

  archiveControl(beat, errors) {
    const holder = h("div");
    const ask = h("button", { type: "button", class: "danger" }, "Archive beat");
    const confirm = h("div", { class: "studio-confirm", role: "group", "aria-label": "Confirm archiving" },
      h("p", {}, `Archive “${beat.title}”? It leaves the store until you publish it again.`));
    const yes = h("button", { type: "button", class: "danger" }, "Yes, archive it");
    const no = h("button", { type: "button" }, "Keep it");
    confirm.append(h("div", { class: "actions" }, yes, no));
    ask.addEventListener("click", () => { holder.replaceChildren(confirm); yes.focus(); });
    no.addEventListener("click", () => { holder.replaceChildren(ask); ask.focus(); });
    yes.addEventListener("click", () => busy(yes, () => this.change(errors, { method: "DELETE" }, "Archived.")));
    holder.append(ask);
    return holder;
  }

  async change(errors, request, message) {
    try {
      const saved = await api(`/beats/${encodeURIComponent(this.beat.id)}`, request);
      notice(message);
      await this.render(saved);
    } catch (error) {
      showFormError(h("form"), errors, error);
    }
  }

  close() {
    this.stopPolling();
    if (this.files) this.files.close();
    for (const audio of this.root.querySelectorAll("audio")) audio.pause();
  }
}

// Free downloads: the tagged preview for non-profit use, under a free license of its own.
function freeDownloadSwitch(beat) {
  return h("div", { class: "switch" },
    h("label", { class: "choice", for: "free-download" },
      h("input", { type: "checkbox", id: "free-download", name: "free_download", checked: Boolean(beat.free_download),
        "aria-describedby": "free-download-hint" }), " Offer a free download"),
    h("p", { class: "muted hint", id: "free-download-hint" },
      "Signed-in listeners download the tagged preview for non-profit use; a commercial release needs a paid " +
      "license. Free downloads end when the exclusive rights are sold."));
}
