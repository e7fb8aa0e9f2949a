// The waveform on a beat's page: the whole preview drawn large, the part heard in the player
// in the accent colour. A click (or the arrow keys) plays the beat from that point; the
// player at the bottom does the playing, so the two always agree.

import { duration, h } from "../ui.js";
import { onPlayerChange, onPlayerTime, playFrom, positionOf } from "./player.js";
import { drawWaveform, loadPeaks } from "./waveform.js";

const STEP_SECONDS = 5;

function lengthOf(beat) {
  return beat.duration_ms ? beat.duration_ms / 1000 : 0;
}

// Returns {element, stop}: stop() unsubscribes when the page is left. Null without a preview.
export function beatWaveform(beat) {
  if (!beat.preview_url || !beat.waveform_url) return null;
  const canvas = h("canvas", { class: "waveform", tabindex: "0", role: "slider", "aria-valuemin": "0",
    "aria-label": `Play ${beat.title} from a point`, dataset: { drawn: "false" } });
  const time = h("span", { class: "beat-wave-time", "aria-hidden": "true" });
  let peaks = null;

  function position() {
    return positionOf(beat.id) || { now: 0, total: lengthOf(beat) };
  }

  function redraw() {
    const { now, total } = position();
    drawWaveform(canvas, peaks, total ? now / total : 0);
    canvas.dataset.drawn = String(Boolean(peaks));
    time.textContent = `${duration(now * 1000)} / ${duration(total * 1000)}`;
    canvas.setAttribute("aria-valuemax", String(Math.round(total)));
    canvas.setAttribute("aria-valuenow", String(Math.round(now)));
    canvas.setAttribute("aria-valuetext", `${duration(now * 1000)} of ${duration(total * 1000)}`);
  }

  function playAt(seconds) {
    const { total } = position();
    if (total) playFrom(beat, Math.min(Math.max(seconds / total, 0), 1));
  }

  canvas.addEventListener("click", (event) => {
    const box = canvas.getBoundingClientRect();
    playFrom(beat, Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1));
  });
  canvas.addEventListener("keydown", (event) => {
    const { now, total } = position();
    const moves = { ArrowRight: now + STEP_SECONDS, ArrowUp: now + STEP_SECONDS, ArrowLeft: now - STEP_SECONDS,
      ArrowDown: now - STEP_SECONDS, Home: 0, End: total };
    if (!(event.key in moves)) return;
    event.preventDefault();
    playAt(moves[event.key]);
  });

  const request = new AbortController();
  loadPeaks(beat.waveform_url, request.signal)
    .then((loaded) => { peaks = loaded; redraw(); })
    .catch((error) => { if (error.name !== "AbortError") canvas.dataset.error = error.message; });
  const resized = new ResizeObserver(redraw);
  resized.observe(canvas);
  const unsubscribe = [onPlayerTime(redraw), onPlayerChange(redraw)];
  const element = h("div", { class: "beat-wave" }, canvas,
    h("p", { class: "beat-wave-hint muted" }, time, h("span", {}, "Tap or click the waveform to play from there.")));
  redraw();
  return {
    element,
    stop() {
      request.abort();
      resized.disconnect();
      unsubscribe.forEach((off) => off());
    },
  };
}
