// Charts of series over days or weeks (UTC), drawn with the vendored uPlot. The library is
// loaded the first time a chart is drawn, so pages without charts never fetch it. Each chart
// is a <figure> with its numbers in a table under it, for screen readers and for copying.

import { count, h } from "./ui.js";
import { fractionDigits, majorUnits, money } from "./money.js";

const UPLOT = "../vendor/uplot/uPlot.esm.js";
const STYLESHEETS = ["/static/vendor/uplot/uPlot.min.css", "/static/app/insights.css"];
const DAY_SECONDS = 86400;
const HEIGHT = 220;
export const COLOURS = ["#5b3df5", "#e0802b", "#1b7f3b", "#b3261e"];

let library = null;

function uPlotLibrary() {
  library ||= import(UPLOT).then((module) => module.default);
  return library;
}

// The charts' and the studio's promotion pages' stylesheets, linked once (the page's policy
// allows stylesheets from this site only, never inline ones).
export function useStylesheets() {
  for (const href of STYLESHEETS) {
    if (!document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) {
      document.head.append(h("link", { rel: "stylesheet", href }));
    }
  }
}

const UTC_DAY = new Intl.DateTimeFormat("en", { day: "numeric", month: "short", timeZone: "UTC" });
const UTC_DATE = new Intl.DateTimeFormat("en", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

// "2026-12-07" -> seconds since 1970 at 00:00 UTC that day.
function secondsOf(isoDay) {
  return Date.parse(`${isoDay}T00:00:00Z`) / 1000;
}

// How a period is named: "7 Dec 2026", or "Week of 7 Dec 2026".
export function periodName(isoDay, interval) {
  const words = UTC_DATE.format(new Date(secondsOf(isoDay) * 1000));
  return interval === "week" ? `Week of ${words}` : words;
}

// Minor units as the currency shows them: 2999 -> "$29.99".
export function moneyText(amount, currency) {
  return money({ amount, currency });
}

// A number of the kind a series holds, in words for the table and the legend.
function valueText(value, kind, currency) {
  if (value === null || value === undefined) return "–";
  return kind === "money" ? moneyText(value, currency) : Number(value).toLocaleString("en");
}

// One chart: `frame` is the API's answer (periods, interval, currency), `series` a list of
// {label, values, kind: "count"|"money"}; `bars` draws bars instead of lines. Answers
// {element, destroy}; the chart is drawn once the element is in the page.
export function chart({ title, frame, series, bars = false, description = "" }) {
  useStylesheets();
  const plot = h("div", { class: "chart-plot" });
  const total = series.reduce((sum, one) => sum + one.values.reduce((a, b) => a + b, 0), 0);
  const element = h("figure", {
    class: "chart card", dataset: { chart: title, points: String(frame.periods.length), total: String(total) },
  },
  h("figcaption", {}, h("h2", {}, title), description ? h("p", { class: "hint" }, description) : null),
  plot, numbersTable(frame, series));
  let drawn = null;
  let observer = null;
  let stopped = false;
  uPlotLibrary().then((uPlot) => {
    if (stopped) return;
    const draw = () => {
      if (drawn || stopped || !plot.isConnected) return false;
      drawn = new uPlot(options(uPlot, frame, series, bars, plot.clientWidth || 600),
        [frame.periods.map(secondsOf), ...series.map((one) => one.values.map((value) => valueForAxis(value, one.kind, frame.currency)))],
        plot);
      return true;
    };
    observer = new ResizeObserver(() => {
      if (!draw() && drawn && plot.clientWidth) drawn.setSize({ width: plot.clientWidth, height: HEIGHT });
    });
    observer.observe(plot);
    draw();
  });
  const destroy = () => {
    stopped = true;
    if (observer) observer.disconnect();
    if (drawn) drawn.destroy();
  };
  return { element, destroy };
}

// Money is drawn in major units (29.99), counted in minor units (2999).
function valueForAxis(value, kind, currency) {
  return kind === "money" ? majorUnits(value, currency) : value;
}

function options(uPlot, frame, series, bars, width) {
  const step = (frame.interval === "week" ? 7 : 1) * DAY_SECONDS;
  const money = series.some((one) => one.kind === "money");
  const axisNumber = (value) => (money ? moneyText(value * 10 ** fractionDigits(frame.currency), frame.currency)
    : Number(value).toLocaleString("en"));
  return {
    width,
    height: HEIGHT,
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
    scales: {
      x: { time: true, range: (_u, min, max) => [min - step / 2, max + step / 2] },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
    },
    axes: [
      { values: (_u, splits) => splits.map((seconds) => UTC_DAY.format(new Date(seconds * 1000))), space: 60 },
      { values: (_u, splits) => splits.map(axisNumber), size: money ? 80 : 50, incrs: money ? undefined : [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] },
    ],
    series: [
      { label: frame.interval === "week" ? "Week of" : "Day", value: (_u, seconds) => (seconds === null ? "–" : UTC_DATE.format(new Date(seconds * 1000))) },
      ...series.map((one, index) => ({
        label: one.label,
        stroke: COLOURS[index % COLOURS.length],
        fill: bars ? `${COLOURS[index % COLOURS.length]}cc` : undefined,
        width: bars ? 1 : 2,
        paths: bars ? uPlot.paths.bars({ size: [0.7 / series.length, 48], align: 0, gap: 1 }) : undefined,
        points: { show: !bars && frame.periods.length <= 60, size: 5 },
        value: (_u, value) => (value === null ? "–" : one.kind === "money" ? axisNumber(value) : Number(value).toLocaleString("en")),
      })),
    ],
    legend: { show: true },
  };
}

// The chart's numbers as a table, under a "Numbers" disclosure.
function numbersTable(frame, series) {
  return h("details", { class: "chart-numbers" }, h("summary", {}, "Numbers"),
    h("div", { class: "table-scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, frame.interval === "week" ? "Week" : "Day"),
        series.map((one) => h("th", { scope: "col" }, one.label)))),
      h("tbody", {}, frame.periods.map((period, row) => h("tr", {},
        h("th", { scope: "row" }, periodName(period, frame.interval)),
        series.map((one) => h("td", {}, valueText(one.values[row], one.kind, frame.currency)))))))));
}

// Per day / per week, and how far back; `choose({interval, days})` is called on a change.
export function rangeControls({ interval, days, choices, onChange }) {
  const radios = ["day", "week"].map((value) => h("label", { class: "choice" },
    h("input", { type: "radio", name: "interval", value, checked: value === interval }),
    value === "day" ? " Per day" : " Per week"));
  const select = h("select", { name: "days" }, choices.map((choice) => h("option", { value: String(choice), selected: choice === days },
    `Last ${count(choice, "day")}`)));
  const form = h("form", { class: "chart-controls", "aria-label": "Chart period" },
    h("fieldset", { class: "chart-interval" }, h("legend", {}, "Show"), radios),
    h("label", { class: "field" }, h("span", { class: "field-label" }, "Range"), select),
    h("p", { class: "hint chart-zone" }, "Days run from midnight to midnight UTC (coordinated universal time); weeks start on Monday."));
  form.addEventListener("change", () => onChange({ interval: form.elements.interval.value, days: Number(select.value) }));
  form.addEventListener("submit", (event) => event.preventDefault());
  return form;
}

// The range of the last `days` days up to today (UTC), as the API takes it.
export function lastDays(days) {
  const today = new Date();
  const first = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - days + 1));
  return { from: first.toISOString().slice(0, 10), to: today.toISOString().slice(0, 10) };
}

// "5.2%" from a fraction (0.052), or "–" without plays.
export function percentText(fraction) {
  return fraction === null || fraction === undefined ? "–" : `${(fraction * 100).toLocaleString("en", { maximumFractionDigits: 1 })}%`;
}
