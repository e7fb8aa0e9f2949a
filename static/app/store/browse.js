// The store: full-text search, filters and sort, kept in the address so a search can be
// shared and survives reload and back; results as cards, one page at a time ("Load more").

import { api } from "../api.js";
import { errorBox, field, fractionDigits, h, money, priceStep } from "../ui.js";
import { beatFacts, beatPath, cover, followPlayer, playButton, tagLinks } from "./common.js";

const PAGE_SIZE = 24;
// The search parameters the API takes (prices in minor units, as the API has them); a
// `limit` in the address sets the page size.
const FILTERS = ["q", "genre", "mood", "key", "bpm_min", "bpm_max", "price_min", "price_max", "tag", "beatmaker", "sort", "limit"];
const PRICE_FILTERS = ["price_min", "price_max"];
const SORTS = [
  ["newest", "Newest"], ["popular", "Most played"], ["price_asc", "Price: low to high"],
  ["price_desc", "Price: high to low"], ["bpm", "BPM: slow to fast"],
];
const GENRES = ["trap", "drill", "boom bap", "lofi", "r&b", "hip hop", "afrobeats", "dancehall", "reggaeton", "pop", "house"];
const MOODS = ["dark", "chill", "happy", "sad", "aggressive", "romantic", "epic", "gritty"];
const NOTES_MAJOR = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
const NOTES_MINOR = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"];
const KEYS = [...NOTES_MAJOR.map((note) => `${note} major`), ...NOTES_MINOR.map((note) => `${note} minor`)];

export function filtersFrom(query) {
  const filters = {};
  for (const name of FILTERS) {
    const value = (query.get(name) || "").trim();
    if (value) filters[name] = value;
  }
  return filters;
}

export function queryString(filters) {
  const query = new URLSearchParams();
  for (const name of FILTERS) if (filters[name]) query.set(name, filters[name]);
  const text = query.toString();
  return text ? `?${text}` : "";
}

// The store sells in one currency, which the API does not name on its own: the price filter
// takes the currency of the listed beats' prices, and this one until a listed price shows it.
const FALLBACK_CURRENCY = "usd";
let storeCurrency = FALLBACK_CURRENCY;

// Prices are typed in the store's currency ("29.99") and sent in its minor units (2999).
function toMinor(text, currency) {
  const value = Number.parseFloat(text);
  return Number.isFinite(value) && value >= 0 ? String(Math.round(value * 10 ** fractionDigits(currency))) : "";
}

function fromMinor(text, currency) {
  const value = Number.parseInt(text, 10);
  return Number.isFinite(value) ? String(value / 10 ** fractionDigits(currency)) : "";
}

function priceLabel(name, currency) {
  return `${name === "price_min" ? "Price from" : "Price to"} (${currency.toUpperCase()})`;
}

// Once the listing shows the store's currency, the price fields take its digits.
function usePriceCurrency(form, filters, currency) {
  if (currency === storeCurrency) return;
  storeCurrency = currency;
  for (const name of PRICE_FILTERS) {
    const input = form.elements.namedItem(name);
    input.closest("label").querySelector(".field-label").textContent = priceLabel(name, currency);
    input.step = priceStep(currency);
    if (filters[name]) input.value = fromMinor(filters[name], currency);
  }
}

function options(choices, selected, anyLabel) {
  return [
    anyLabel ? h("option", { value: "" }, anyLabel) : null,
    ...choices.map(([value, label]) => h("option", { value, selected: value === selected }, label)),
  ];
}

function datalist(id, values) {
  return h("datalist", { id }, values.map((value) => h("option", { value })));
}

// A key from a shared address may be spelled "F#m": it stays selected as written.
function keyChoices(selected) {
  const choices = KEYS.map((key) => [key, key]);
  if (selected && !KEYS.includes(selected)) choices.unshift([selected, selected]);
  return choices;
}

function searchForm(filters) {
  const number = (name, label, attributes = {}) => field(label, h("input", {
    name, type: "number", inputmode: "numeric",
    value: PRICE_FILTERS.includes(name) ? fromMinor(filters[name], storeCurrency) : filters[name] || "",
    ...attributes }));
  const activeFilters = ["genre", "mood", "key", "bpm_min", "bpm_max", "price_min", "price_max"].some((name) => filters[name]);
  return h("form", { class: "store-search", role: "search", "aria-label": "Store search" },
    h("div", { class: "search-line" },
      field("Search beats", h("input", { name: "q", type: "search", value: filters.q || "",
        placeholder: "Title, beatmaker, tag…", maxlength: 200, autocomplete: "off" })),
      field("Sort by", h("select", { name: "sort" }, options(SORTS, filters.sort || "newest"))),
      h("button", { type: "submit", class: "primary" }, "Search")),
    h("details", { class: "filters", open: activeFilters },
      h("summary", {}, "Filters"),
      h("div", { class: "filter-grid" },
        field("Genre", h("input", { name: "genre", list: "store-genres", value: filters.genre || "", maxlength: 40 })),
        field("Mood", h("input", { name: "mood", list: "store-moods", value: filters.mood || "", maxlength: 40 })),
        field("Key", h("select", { name: "key" }, options(keyChoices(filters.key), filters.key, "Any key"))),
        number("bpm_min", "BPM from", { min: 40, max: 300 }),
        number("bpm_max", "BPM to", { min: 40, max: 300 }),
        number("price_min", priceLabel("price_min", storeCurrency), { min: 0, step: priceStep(storeCurrency), inputmode: "decimal" }),
        number("price_max", priceLabel("price_max", storeCurrency), { min: 0, step: priceStep(storeCurrency), inputmode: "decimal" })),
      h("div", { class: "actions" },
        h("button", { type: "submit" }, "Apply filters"),
        h("a", { href: "/", class: "button" }, "Clear all"))),
    datalist("store-genres", GENRES), datalist("store-moods", MOODS));
}

// The filters a form holds, plus those it has no field for (tag, beatmaker, page size).
function filtersOf(form, previous) {
  const filters = { tag: previous.tag, beatmaker: previous.beatmaker, limit: previous.limit };
  for (const [name, raw] of new FormData(form).entries()) {
    const value = String(raw).trim();
    if (!value) continue;
    filters[name] = PRICE_FILTERS.includes(name) ? toMinor(value, storeCurrency) : value;
  }
  if (filters.sort === "newest") delete filters.sort;
  return filters;
}

function card(beat) {
  return h("li", { class: "beat-card" },
    h("div", { class: "beat-card-art" }, cover(beat), playButton(beat)),
    h("div", { class: "beat-card-body" },
      h("h2", { class: "beat-card-title" }, h("a", { href: beatPath(beat) }, beat.title)),
      h("p", { class: "muted beat-card-maker" }, `by ${beat.beatmaker.display_name}`),
      h("p", { class: "beat-facts" }, beatFacts(beat)),
      tagLinks(beat.tags),
      h("p", { class: "price" }, beat.price_from ? `From ${money(beat.price_from)}` : "Not for sale right now")));
}

// Removable chips for the filters that have no field (a tag or beatmaker from a link); the
// beatmaker is named once a result shows who it is.
function linkedFilters(filters, beatmakerName) {
  const chips = [];
  if (filters.tag) chips.push(["tag", `Tag: #${filters.tag}`]);
  if (filters.beatmaker) chips.push(["beatmaker", beatmakerName ? `Beatmaker: ${beatmakerName}` : "One beatmaker's beats"]);
  if (!chips.length) return null;
  return h("ul", { class: "chips", "aria-label": "Also filtered by" }, chips.map(([name, label]) => {
    const rest = { ...filters };
    delete rest[name];
    return h("li", {}, label, " ", h("a", { href: `/${queryString(rest)}`, "aria-label": `Remove ${label}` }, "✕"));
  }));
}

function describe(count, filters) {
  const searching = Object.keys(filters).some((name) => name !== "sort" && name !== "limit");
  if (count === 0) return searching ? "No beats match this search. Try fewer filters." : "No beats in the store yet.";
  return `${count} ${count === 1 ? "beat" : "beats"} shown`;
}

export async function browseView({ root, query }) {
  let filters = filtersFrom(query);
  const form = searchForm(filters);
  const chips = h("div", {}, linkedFilters(filters));
  const status = h("p", { class: "result-status", role: "status" });
  const list = h("ul", { class: "beat-grid" });
  const errors = h("div");
  const more = h("button", { type: "button", class: "load-more", hidden: true }, "Load more");
  root.replaceChildren(h("h1", {}, "Find your next beat"), form, chips, errors, status, list,
    h("div", { class: "actions center" }, more));

  let request = null;
  let nextCursor = null;
  let shown = 0;

  async function loadPage(cursor) {
    request?.abort();
    request = new AbortController();
    errors.replaceChildren();
    more.disabled = true;
    status.textContent = cursor ? "Loading more beats…" : "Searching…";
    try {
      const page = await api("/beats", { query: { limit: PAGE_SIZE, ...filters, cursor }, signal: request.signal });
      const cards = page.items.map(card);
      if (cursor) list.append(...cards);
      else list.replaceChildren(...cards);
      shown = cursor ? shown + cards.length : cards.length;
      nextCursor = page.next_cursor;
      const priced = page.items.find((beat) => beat.price_from);
      if (priced) usePriceCurrency(form, filters, priced.price_from.currency);
      status.textContent = describe(shown, filters);
      if (!cursor && filters.beatmaker && page.items.length) {
        chips.replaceChildren(linkedFilters(filters, page.items[0].beatmaker.display_name));
      }
      more.hidden = !nextCursor;
      // Keyboard users continue where the new cards start.
      if (cursor && cards.length) cards[0].querySelector("a").focus();
    } catch (error) {
      if (error.name === "AbortError") return;
      status.textContent = "";
      errors.replaceChildren(errorBox(error));
    } finally {
      more.disabled = false;
    }
  }

  // A search runs when Search or Apply filters is pressed (or Enter in a field), never on a mere
  // change of a choice (WCAG 3.2.2). A new search becomes a history entry (back returns to the
  // previous one); the results change in place, so focus stays in the form.
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    filters = filtersOf(form, filters);
    const target = `/${queryString(filters)}`;
    if (target !== location.pathname + location.search) history.pushState({ keepFocus: true }, "", target);
    chips.replaceChildren(linkedFilters(filters) || "");
    loadPage(null);
  });
  more.addEventListener("click", () => loadPage(nextCursor));

  const unfollow = followPlayer(list);
  await loadPage(null);
  return () => {
    request?.abort();
    unfollow();
  };
}
