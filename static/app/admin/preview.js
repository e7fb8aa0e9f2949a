// A reported beat's watermarked preview, played inside the report so the admin can judge it by
// ear. In the store it streams like any preview; once out of the store (taken down, held for
// review) only owners and admins may play it, with their token, which an <audio> element
// cannot send: it is then fetched with the token and played from memory.

import { apiFile } from "../api.js";
import { busy, errorBox, h } from "../ui.js";

async function fetchPreview(url) {
  return URL.createObjectURL(await apiFile(url));
}

// Returns {element, stop}; stop() lets go of a preview fetched into memory.
export function reportPreview(beat) {
  const label = `Preview of ${beat.title}`;
  if (!beat.preview_url) {
    return { element: h("p", { class: "muted" }, "This beat has no preview yet."), stop() {} };
  }
  if (beat.status === "published") {
    const audio = h("audio", { controls: true, preload: "metadata", src: beat.preview_url, "aria-label": label });
    return { element: h("div", { class: "admin-preview" }, audio), stop() { audio.pause(); } };
  }
  const audio = h("audio", { controls: true, hidden: true, "aria-label": label });
  const errors = h("div");
  const load = h("button", { type: "button" }, "Load the preview");
  let objectUrl = null;
  load.addEventListener("click", () => busy(load, async () => {
    errors.replaceChildren();
    try {
      objectUrl = await fetchPreview(beat.preview_url);
      audio.src = objectUrl;
      audio.hidden = false;
      load.remove();
      await audio.play().catch(() => {}); // the controls are there if the browser will not start it
    } catch (error) {
      errors.replaceChildren(errorBox(error));
    }
  }));
  const element = h("div", { class: "admin-preview" },
    h("p", { class: "muted" }, "The beat is out of the store: its preview is loaded for admins only."),
    load, audio, errors);
  return {
    element,
    stop() {
      audio.pause();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    },
  };
}
