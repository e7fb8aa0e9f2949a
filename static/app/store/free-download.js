// A beat's "Free download": the tagged preview for non-profit use, under a free license of its
// own (the same one each time this account downloads the beat).

import { api } from "../api.js";
import { busy, errorBox, h } from "../ui.js";

export function freeDownloadSection(beat, user, navigate) {
  if (!beat.free_download || beat.status !== "published") return null;
  const result = h("div", { class: "free-download-result" });
  const button = h("button", { type: "button", class: "free-download" }, "Free download");
  button.addEventListener("click", () => busy(button, async () => {
    result.replaceChildren();
    if (!user) {
      navigate(`/signin?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    try {
      const answer = await api(`/beats/${encodeURIComponent(beat.id)}/free-download`, { method: "POST" });
      const { license, download } = answer;
      result.replaceChildren(h("p", { role: "status" },
        `Your free license ${license.license_number} is ready. `,
        h("a", { class: "button", href: download.url, download: download.filename || "" }, "Download the MP3"), " ",
        h("a", { href: `/licenses/${encodeURIComponent(license.id)}` }, "See the license and its document")));
    } catch (error) {
      result.replaceChildren(errorBox(error));
    }
  }));
  return h("section", { class: "card store-section", "aria-labelledby": "free-download-title" },
    h("h2", { id: "free-download-title" }, "Free download"),
    h("p", {}, "The preview with the producer's voice tag, free for non-profit use. "
      + "Any commercial release needs a paid license."),
    button, result);
}
