// The admin overview's charts: the store's sales, platform fees, refunds and disputes per day
// or week (UTC), summed from the earnings ledger by GET /admin/stats.

import { api } from "../api.js";
import { h } from "../ui.js";
import { chart, lastDays, moneyText, rangeControls } from "../charts.js";

const RANGES = [7, 30, 90, 365];
const DEFAULT_DAYS = 30;

// The section and a function that stops its charts. The period is kept in the address.
export async function storeCharts({ query, navigate }) {
  const interval = query.get("interval") === "week" ? "week" : "day";
  const days = RANGES.includes(Number(query.get("days"))) ? Number(query.get("days")) : DEFAULT_DAYS;
  const stats = await api("/admin/stats", { query: { interval, ...lastDays(days) } });
  const charts = [
    chart({ title: "Licenses sold", frame: stats, bars: true, series: [{ label: "Licenses sold", values: stats.sales, kind: "count" }] }),
    chart({ title: "Sales and fees", frame: stats, series: [
      { label: "Sold for", values: stats.gross, kind: "money" }, { label: "Platform fees", values: stats.fees, kind: "money" }],
    description: "What licenses sold for, and the platform's fee on them." }),
    chart({ title: "Refunds and disputes", frame: stats, series: [
      { label: "Refunded", values: stats.refunds, kind: "money" }, { label: "Held by disputes", values: stats.disputed, kind: "money" }],
    description: "Money given back to buyers, and earnings held while a payment is disputed." }),
    chart({ title: "Disputes opened", frame: stats, bars: true, series: [{ label: "Orders disputed", values: stats.disputes, kind: "count" }] }),
  ];
  const { sales, gross, fees, refunds, disputes } = stats.totals;
  const section = h("section", { class: "store-charts", "aria-labelledby": "store-charts-title" },
    h("h2", { id: "store-charts-title" }, "The store over time"),
    rangeControls({ interval, days, choices: RANGES,
      onChange: (chosen) => navigate(`/admin?interval=${chosen.interval}&days=${chosen.days}`, { replace: true }) }),
    h("p", { class: "store-totals" },
      `In this period: ${sales.toLocaleString("en")} licenses sold for ${moneyText(gross, stats.currency)}, `
      + `${moneyText(fees, stats.currency)} in fees, ${moneyText(refunds, stats.currency)} refunded, `
      + `${disputes.toLocaleString("en")} ${disputes === 1 ? "dispute" : "disputes"} opened.`),
    h("div", { class: "chart-grid" }, charts.map((one) => one.element)));
  return { section, stop: () => charts.forEach((one) => one.destroy()) };
}
