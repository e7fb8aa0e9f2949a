// The one player of the store: a bar at the bottom of the page that keeps playing while the
// visitor browses. It streams the watermarked preview and draws the beat's waveform; a click
// or the arrow keys on the waveform seek.

import { duration, h, notice } from "../ui.js";
import { drawWaveform, loadPeaks } from "./waveform.js";

const SEEK_STEP_SECONDS = 5;
const listeners = new Set();
const timeListeners = new Set(); // told of every move of the playing position
let bar = null; // the player's elements, built on first play
let current = null; // {beat, peaks}
let peaksRequest = null;
let frame = null;

// Calls `listener()` whenever the beat or its playing state changes; returns the unsubscribe.
export function onPlayerChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// Calls `listener()` whenever the position moves (every frame while playing, and on seeks),
// so a waveform elsewhere on the page can follow; returns the unsubscribe.
export function onPlayerTime(listener) {
  timeListeners.add(listener);
  return () => timeListeners.delete(listener);
}

// Where the player is in this beat, {now, total} in seconds, or null when another beat (or
// none) is loaded.
export function positionOf(beatId) {
  if (!bar || !current || current.beat.id !== beatId) return null;
  return { now: bar.audio.currentTime || 0, total: totalSeconds() };
}

// Plays `beat` from `fraction` (0..1) of its length: a click on its waveform on the beat's page.
export function playFrom(beat, fraction) {
  ensureBar();
  if (!current || current.beat.id !== beat.id) load(beat);
  seekTo(fraction * totalSeconds());
  if (bar.audio.paused) play();
}

export function isPlaying(beatId) {
  return Boolean(bar && current && current.beat.id === beatId && !bar.audio.paused);
}

// Play a beat, or pause/resume it when it is the one loaded.
export function togglePlay(beat) {
  ensureBar();
  if (current && current.beat.id === beat.id) {
    if (bar.audio.paused) play();
    else bar.audio.pause();
    return;
  }
  load(beat);
  play();
}

function play() {
  bar.audio.play().catch((error) => {
    if (error.name !== "AbortError") notice("The preview could not be played.", "error");
  });
}

function load(beat) {
  current = { beat, peaks: null };
  bar.audio.src = beat.preview_url;
  bar.title.replaceChildren(h("a", { href: `/beats/${encodeURIComponent(beat.id)}` }, beat.title),
    h("span", { class: "muted" }, ` · ${beat.beatmaker.display_name}`));
  bar.waveform.setAttribute("aria-label", `Seek in ${beat.title}`);
  bar.root.hidden = false;
  document.body.classList.add("has-player");
  if (peaksRequest) peaksRequest.abort();
  peaksRequest = new AbortController();
  redraw();
  if (beat.waveform_url) {
    loadPeaks(beat.waveform_url, peaksRequest.signal)
      .then((peaks) => { if (current && current.beat.id === beat.id) { current.peaks = peaks; redraw(); } })
      .catch((error) => { if (error.name !== "AbortError") bar.waveform.dataset.error = error.message; });
  }
  changed();
}

function totalSeconds() {
  const audio = bar.audio;
  if (Number.isFinite(audio.duration) && audio.duration > 0) return audio.duration;
  return current && current.beat.duration_ms ? current.beat.duration_ms / 1000 : 0;
}

function seekTo(seconds) {
  const total = totalSeconds();
  if (!total) return;
  bar.audio.currentTime = Math.min(Math.max(seconds, 0), total - 0.05);
  redraw();
}

function redraw() {
  const total = totalSeconds();
  const now = bar.audio.currentTime || 0;
  const played = total ? now / total : 0;
  drawWaveform(bar.waveform, current && current.peaks, played);
  bar.waveform.dataset.drawn = String(Boolean(current && current.peaks));
  bar.time.textContent = `${duration(now * 1000)} / ${duration(total * 1000)}`;
  bar.waveform.setAttribute("aria-valuemax", String(Math.round(total)));
  bar.waveform.setAttribute("aria-valuenow", String(Math.round(now)));
  bar.waveform.setAttribute("aria-valuetext", `${duration(now * 1000)} of ${duration(total * 1000)}`);
  for (const listener of timeListeners) listener();
}

// While playing, the waveform follows every frame; paused, it is drawn on events only.
function animate() {
  cancelAnimationFrame(frame);
  if (bar.audio.paused) return;
  redraw();
  frame = requestAnimationFrame(animate);
}

function changed() {
  const playing = current && !bar.audio.paused;
  const title = current ? current.beat.title : "";
  bar.toggle.setAttribute("aria-label", `${playing ? "Pause" : "Play"} ${title}`);
  bar.toggle.classList.toggle("playing", Boolean(playing));
  bar.icon.textContent = playing ? "❚❚" : "▶";
  for (const listener of listeners) listener();
}

function onSeekKey(event) {
  const now = bar.audio.currentTime || 0;
  const moves = {
    ArrowRight: now + SEEK_STEP_SECONDS, ArrowUp: now + SEEK_STEP_SECONDS,
    ArrowLeft: now - SEEK_STEP_SECONDS, ArrowDown: now - SEEK_STEP_SECONDS,
    PageUp: now + 6 * SEEK_STEP_SECONDS, PageDown: now - 6 * SEEK_STEP_SECONDS,
    Home: 0, End: totalSeconds(),
  };
  if (!(event.key in moves)) return;
  event.preventDefault();
  seekTo(moves[event.key]);
}

function onSeekClick(event) {
  const box = bar.waveform.getBoundingClientRect();
  seekTo(((event.clientX - box.left) / box.width) * totalSeconds());
}

function close() {
  bar.audio.pause();
  bar.audio.removeAttribute("src");
  bar.audio.load();
  current = null;
  bar.root.hidden = true;
  document.body.classList.remove("has-player");
  changed();
}

function ensureBar() {
  if (bar) return;
  const icon = h("span", { "aria-hidden": "true" }, "▶");
  bar = {
    icon,
    audio: h("audio", { preload: "auto" }),
    toggle: h("button", { type: "button", class: "play-button", "aria-label": "Play" }, icon),
    title: h("p", { class: "player-title" }),
    time: h("span", { class: "player-time", "aria-live": "off" }, "0:00 / 0:00"),
    waveform: h("canvas", { class: "waveform", tabindex: "0", role: "slider", "aria-valuemin": "0",
      "aria-label": "Seek" }),
  };
  bar.root = h("section", { class: "player", "aria-label": "Player", hidden: true },
    bar.toggle,
    h("div", { class: "player-body" }, h("div", { class: "player-head" }, bar.title, bar.time), bar.waveform),
    h("button", { type: "button", class: "player-close", "aria-label": "Close the player" }, "✕"),
    bar.audio);
  bar.toggle.addEventListener("click", () => current && togglePlay(current.beat));
  bar.root.querySelector(".player-close").addEventListener("click", close);
  bar.waveform.addEventListener("click", onSeekClick);
  bar.waveform.addEventListener("keydown", onSeekKey);
  for (const type of ["play", "pause", "ended"]) bar.audio.addEventListener(type, () => { changed(); animate(); });
  for (const type of ["loadedmetadata", "seeked", "timeupdate"]) bar.audio.addEventListener(type, redraw);
  bar.audio.addEventListener("error", () => {
    if (current) notice(`The preview of “${current.beat.title}” could not be played.`, "error");
  });
  new ResizeObserver(redraw).observe(bar.waveform);
  document.body.append(bar.root);
}
