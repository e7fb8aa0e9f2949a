// Waveform peaks (the audiowaveform JSON format) drawn on a canvas, the played part in the
// accent colour. `data` holds a min/max pair per pixel of the original rendering, per channel.

import { token } from "../api.js";

export async function loadPeaks(url, signal) {
  const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
  const response = await fetch(url, { headers, signal });
  if (!response.ok) throw new Error("The waveform could not be loaded.");
  return response.json();
}

// The loudest peak, so a quiet master still fills the canvas.
function loudest(data) {
  let result = 1;
  for (const value of data) result = Math.max(result, Math.abs(value));
  return result;
}

// One [min, max] pair per column, scaled to -1..1, from the first channel only.
export function columns(peaks, count) {
  const channels = peaks.channels || 1;
  const pairs = Math.floor(peaks.data.length / (2 * channels));
  const scale = loudest(peaks.data);
  const result = [];
  for (let column = 0; column < count; column += 1) {
    const start = Math.floor((column * pairs) / count);
    const end = Math.max(start + 1, Math.floor(((column + 1) * pairs) / count));
    let low = 0;
    let high = 0;
    for (let pair = start; pair < end && pair < pairs; pair += 1) {
      const offset = pair * 2 * channels;
      low = Math.min(low, peaks.data[offset]);
      high = Math.max(high, peaks.data[offset + 1]);
    }
    result.push([low / scale, high / scale]);
  }
  return result;
}

// Columns per peaks object, recomputed only when the canvas changes width: while playing,
// the waveform is redrawn every frame.
const columnCache = new WeakMap();

function cachedColumns(peaks, count) {
  const cached = columnCache.get(peaks);
  if (cached && cached.count === count) return cached.bars;
  const bars = columns(peaks, count);
  columnCache.set(peaks, { count, bars });
  return bars;
}

const BAR = 2;
const GAP = 1;

// Draws the peaks; `played` is the fraction (0..1) already heard.
export function drawWaveform(canvas, peaks, played) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, width, height);
  if (!peaks) return;
  const styles = getComputedStyle(canvas);
  const playedColour = styles.getPropertyValue("--wave-played").trim() || "#5b3df5";
  const restColour = styles.getPropertyValue("--wave-rest").trim() || "#b9b9c6";
  const step = (BAR + GAP) * ratio;
  const bars = cachedColumns(peaks, Math.floor(width / step));
  const middle = height / 2;
  bars.forEach(([low, high], index) => {
    const x = index * step;
    context.fillStyle = x / width < played ? playedColour : restColour;
    // At least one pixel, so silence still shows as a line.
    const top = middle - Math.max(high * middle, ratio / 2);
    const bottom = middle - Math.min(low * middle, -ratio / 2);
    context.fillRect(x, top, BAR * ratio, bottom - top);
  });
}
