// /studio/stats: the beatmaker's plays, sales and earnings per day or week (UTC), sales per
// play, and the beats that sold and played most. The choice of period is kept in the address.

import { api } from "../api.js";
import { h } from "../ui.js";
import { chart, lastDays, moneyText, percentText, rangeControls } from "../charts.js";
import { studioPage } from "./common.js";

const RANGES = [7, 30, 90, 365];
const DEFAULT_DAYS = 30;

export async function statsView({ root, query, navigate }) {
  const interval = query.get("interval") === "week" ? "week" : "day";
  const days = RANGES.includes(Number(query.get("days"))) ? Number(query.get("days")) : DEFAULT_DAYS;
  const stats = await api("/me/stats", { query: { interval, ...lastDays(days) } });
  const charts = [
    chart({ title: "Plays", frame: stats, series: [
      { label: "Plays", values: stats.plays, kind: "count" },
      { label: "Free downloads", values: stats.free_downloads, kind: "count" }],
    description: "How often a preview of your beats started playing, and free downloads taken." }),
    chart({ title: "Sales", frame: stats, bars: true, series: [{ label: "Licenses sold", values: stats.sales, kind: "count" }],
      description: "Licenses sold that you earn from, on your beats and those you are credited on." }),
    chart({ title: "Earnings", frame: stats, series: [
      { label: "Earned", values: stats.earnings, kind: "money" },
      { label: "Refunded", values: stats.refunded, kind: "money" }],
    description: "Your share of each sale after the platform's fee, and what refunds took back." }),
  ];
  const controls = rangeControls({
    interval, days, choices: RANGES,
    onChange: (chosen) => navigate(`/studio/stats?interval=${chosen.interval}&days=${chosen.days}`, { replace: true }),
  });
  root.replaceChildren(studioPage({ title: "Statistics" }, controls, totals(stats),
    h("div", { class: "chart-grid" }, charts.map((one) => one.element)), topBeats(stats)));
  return () => charts.forEach((one) => one.destroy());
}

function totals(stats) {
  const { plays, sales, earnings, refunded, conversion } = stats.totals;
  const tile = (label, value, hint) => h("div", { class: "stat-tile card" },
    h("p", { class: "stat-label" }, label), h("p", { class: "stat-value" }, value), hint ? h("p", { class: "hint" }, hint) : null);
  return h("section", { class: "stat-tiles", "aria-label": "Totals for the period" },
    tile("Plays", plays.toLocaleString("en")),
    tile("Free downloads", stats.totals.free_downloads.toLocaleString("en")),
    tile("Licenses sold", sales.toLocaleString("en")),
    tile("Earned", moneyText(earnings, stats.currency), refunded ? `${moneyText(refunded, stats.currency)} refunded` : null),
    tile("Sales per play", percentText(conversion), conversion === null ? "No plays in this period." : "Licenses sold for every 100 plays, as a percentage."));
}

function topBeats(stats) {
  const rows = stats.top_beats;
  return h("section", { class: "card", "aria-labelledby": "top-beats-title" },
    h("h2", { id: "top-beats-title" }, "Top beats"),
    rows.length ? h("div", { class: "table-scroll" }, h("table", { class: "top-beats" },
      h("thead", {}, h("tr", {}, ["Beat", "Plays", "Sold", "Sales per play", "Earned"].map((words) => h("th", { scope: "col" }, words)))),
      h("tbody", {}, rows.map((beat) => h("tr", {},
        h("th", { scope: "row" }, beat.title),
        h("td", {}, beat.plays.toLocaleString("en")), h("td", {}, beat.sales.toLocaleString("en")),
        h("td", {}, percentText(beat.conversion)), h("td", {}, moneyText(beat.earnings, stats.currency)))))))
      : h("p", { class: "muted" }, "No plays or sales in this period yet."));
}
