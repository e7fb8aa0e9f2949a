// The store: full-text search, filters and sort, kept in the address so a search can be
// shared and survives reload and back; results as cards, one page at a time ("Load more").
// Genres, moods and keys are chips of the words the store's beats carry.

import { api } from "../api.js";
import { errorBox, field, h } from "../ui.js";
import { majorUnits, money, priceStep, toMinor } from "../money.js";
import { keysetPages } from "../paging.js";
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
// The filters picked among the store's words (GET /catalog/vocabulary) as chips.
const CHIP_FILTERS = [["genre", "Genre", "genres"], ["mood", "Mood", "moods"], ["key", "Key", "keys"]];

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

// Prices are typed in the store's currency ("29.99") and sent in its minor units (2999); a
// negative or unreadable price filters nothing.
function minorFilter(text, currency) {
  const amount = toMinor(text, currency);
  return amount >= 0 ? String(amount) : "";
}

function majorFilter(text, currency) {
  const amount = Number.parseInt(text, 10);
  return Number.isFinite(amount) ? String(majorUnits(amount, currency)) : "";
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
    if (filters[name]) input.value = majorFilter(filters[name], currency);
  }
}

function options(choices, selected, anyLabel) {
  return [
    anyLabel ? h("option", { value: "" }, anyLabel) : null,
    ...choices.map(([value, label]) => h("option", { value, selected: value === selected }, label)),
  ];
}

// One filter's choices as toggle buttons: pressing one searches with it, pressing it again
// drops it. The words come from the store (those some beat on sale carries, with how many);
// the chosen one stays shown even when no beat has it now, so it can be dropped. Until the
// words arrive, only the chosen one is shown.
// The group keeps the chosen word in data-value (filtersOf reads it).
function chipGroup(name, label, selected) {
  const heading = h("span", { class: "chip-group-label", id: `chips-${name}` }, label);
  const buttons = h("div", { class: "chip-buttons" });
  const group = h("div", { class: "chip-group", role: "group", "aria-labelledby": heading.id,
    dataset: { filter: name, value: selected || "" } }, heading, buttons);
  group.show = (entries) => {
    const chosen = group.dataset.value;
    const shown = entries.filter((entry) => entry.count > 0 || entry.value === chosen);
    if (chosen && !shown.some((entry) => entry.value === chosen)) shown.unshift({ value: chosen });
    buttons.replaceChildren(...shown.map((entry) => chip(entry, group)));
    group.hidden = !shown.length;
  };
  group.show([]);
  return group;
}

// Named "trap, 12 beats": the word first, as shown, then the count in words.
function chip(entry, group) {
  const counted = entry.count !== undefined;
  const count = counted ? h("span", { class: "chip-count" }, entry.count.toLocaleString("en")) : null;
  const name = counted ? `${entry.value}, ${entry.count.toLocaleString("en")} ${entry.count === 1 ? "beat" : "beats"}` : null;
  return h("button", { type: "button", class: "chip", "aria-pressed": String(entry.value === group.dataset.value),
    "aria-label": name, dataset: { value: entry.value },
    onclick: (event) => {
      group.dataset.value = group.dataset.value === entry.value ? "" : entry.value;
      for (const other of event.currentTarget.parentElement.children) {
        other.setAttribute("aria-pressed", String(other.dataset.value === group.dataset.value));
      }
      group.closest("form").requestSubmit();
    } }, entry.value, count);
}

function searchForm(filters) {
  const number = (name, label, attributes = {}) => field(label, h("input", {
    name, type: "number", inputmode: "numeric",
    value: PRICE_FILTERS.includes(name) ? majorFilter(filters[name], storeCurrency) : filters[name] || "",
    ...attributes }));
  const [genres, moods, keys] = CHIP_FILTERS.map(([name, label]) => chipGroup(name, label, filters[name]));
  const activeFilters = ["mood", "key", "bpm_min", "bpm_max", "price_min", "price_max"].some((name) => filters[name]);
  const form = h("form", { class: "store-search", role: "search", "aria-label": "Store search" },
    h("div", { class: "search-line" },
      field("Search beats", h("input", { name: "q", type: "search", value: filters.q || "",
        placeholder: "Title, genre, mood, tag, beatmaker…", maxlength: 200, autocomplete: "off" })),
      field("Sort by", h("select", { name: "sort" }, options(SORTS, filters.sort || "newest"))),
      h("button", { type: "submit", class: "primary" }, "Search")),
    genres,
    h("details", { class: "filters", open: activeFilters },
      h("summary", {}, "Filters"),
      moods, keys,
      h("div", { class: "filter-grid" },
        number("bpm_min", "BPM from", { min: 40, max: 300 }),
        number("bpm_max", "BPM to", { min: 40, max: 300 }),
        number("price_min", priceLabel("price_min", storeCurrency), { min: 0, step: priceStep(storeCurrency), inputmode: "decimal" }),
        number("price_max", priceLabel("price_max", storeCurrency), { min: 0, step: priceStep(storeCurrency), inputmode: "decimal" })),
      h("div", { class: "actions" },
        h("button", { type: "submit" }, "Apply filters"),
        h("a", { href: "/", class: "button" }, "Clear all"))));
  form.showVocabulary = (vocabulary) => {
    genres.show(vocabulary.genres);
    moods.show(vocabulary.moods);
    keys.show(vocabulary.keys);
  };
  return form;
}

// The filters a form holds (its fields and chosen chips), plus those it has no field for
// (tag, beatmaker, page size).
function filtersOf(form, previous) {
  const filters = { tag: previous.tag, beatmaker: previous.beatmaker, limit: previous.limit };
  for (const [name, raw] of new FormData(form).entries()) {
    const value = String(raw).trim();
    if (!value) continue;
    filters[name] = PRICE_FILTERS.includes(name) ? minorFilter(value, storeCurrency) : value;
  }
  for (const group of form.querySelectorAll(".chip-group")) {
    if (group.dataset.value) filters[group.dataset.filter] = group.dataset.value;
  }
  if (filters.sort === "newest") delete filters.sort;
  return filters;
}

// The first row's covers load at once, the very first before anything else (the page's largest paint).
const FIRST_ROW = 4;

function card(beat, index) {
  return h("li", { class: "beat-card" },
    h("div", { class: "beat-card-art" }, cover(beat, "cover", { eager: index < FIRST_ROW, first: index === 0 }),
      playButton(beat)),
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
  let shown = 0;
  const pages = keysetPages({
    more,
    load: (cursor) => {
      request?.abort();
      request = new AbortController();
      errors.replaceChildren();
      status.textContent = cursor ? "Loading more beats…" : "Searching…";
      return api("/beats", { query: { limit: PAGE_SIZE, ...filters, cursor }, signal: request.signal });
    },
    show: (beats, first) => {
      const cards = beats.map((beat, index) => card(beat, first ? index : FIRST_ROW + index));
      if (first) list.replaceChildren(...cards);
      else list.append(...cards);
      shown = first ? cards.length : shown + cards.length;
      const priced = beats.find((beat) => beat.price_from);
      if (priced) usePriceCurrency(form, filters, priced.price_from.currency);
      status.textContent = describe(shown, filters);
      if (first && filters.beatmaker && beats.length) {
        chips.replaceChildren(linkedFilters(filters, beats[0].beatmaker.display_name));
      }
      // Keyboard users continue where the new cards start.
      if (!first && cards.length) cards[0].querySelector("a").focus();
    },
    fail: (error) => {
      if (error.name === "AbortError") return;
      status.textContent = "";
      errors.replaceChildren(errorBox(error));
    },
  });

  // A search runs when a button is pressed (Search, Apply filters, a chip) or Enter in a
  // field, never on a mere change of a field or a select (WCAG 3.2.2). A new search becomes a history entry (back returns to the
  // previous one); the results change in place, so focus stays in the form.
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    filters = filtersOf(form, filters);
    const target = `/${queryString(filters)}`;
    if (target !== location.pathname + location.search) history.pushState({ keepFocus: true }, "", target);
    chips.replaceChildren(linkedFilters(filters) || "");
    pages.reload();
  });

  // The chips fill in when the store's words arrive; without them the search still works.
  api("/catalog/vocabulary").then(form.showVocabulary, () => {});
  const unfollow = followPlayer(list);
  await pages.reload();
  return () => {
    request?.abort();
    unfollow();
  };
}
