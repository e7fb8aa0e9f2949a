// The single page: a router over the History API. Each area (store, studio, admin, account)
// exports its routes; a route's view renders into <main> and may return a cleanup function.
// An area's scripts load when one of its pages is first visited: a shopper never downloads the
// studio or the admin console (the server preloads the area of the page it serves).

import { currentUser, forgetPrefetched, hasRole, prefetch, signOut, token } from "./api.js";
import { h, notice, showError } from "./ui.js";
import { cartSize } from "./store/cart.js";

const AREAS = {
  store: () => import("./store/index.js").then((module) => module.storeRoutes),
  studio: () => import("./studio/index.js").then((module) => module.studioRoutes),
  admin: () => import("./admin/index.js").then((module) => module.adminRoutes),
  account: () => import("./account.js").then((module) => module.accountRoutes),
};
// The area of each address's first segment; any other is the store's (as AREA_ENTRIES in
// marketplace/web.py, which preloads it).
const AREA_OF_SECTION = {
  studio: "studio", payouts: "studio", admin: "admin", account: "account", signin: "account", signup: "account",
  "forgot-password": "account", "reset-password": "account", "verify-email": "account",
  "confirm-email": "account", unsubscribe: "account",
};
const loadedAreas = new Map(); // area -> promise of its routes, each with its pattern

function areaRoutes(area) {
  if (!loadedAreas.has(area)) {
    loadedAreas.set(area, AREAS[area]().then((routes) => routes.map((route) => ({
      ...route,
      pattern: new RegExp("^" + route.path.replace(/:(\w+)/g, "(?<$1>[^/]+)") + "/?$"),
    }))).catch((error) => {
      loadedAreas.delete(area); // tried again on the next visit
      throw error;
    }));
  }
  return loadedAreas.get(area);
}

function findRoute(routes, pathname) {
  for (const route of routes) {
    const found = route.pattern.exec(pathname);
    if (found) return { route, found };
  }
  return null;
}

// The route of an address: in its own area first, then in every area (a page an area serves
// outside its usual sections), else none.
async function matchRoute(pathname) {
  const area = AREA_OF_SECTION[pathname.split("/")[1]] || "store";
  const match = findRoute(await areaRoutes(area), pathname);
  if (match) return match;
  const everyArea = await Promise.all(Object.keys(AREAS).map(areaRoutes));
  return findRoute(everyArea.flat(), pathname);
}

let cleanup = null;
let currentRender = 0; // each navigation's number: a slower, older one must not draw over it

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState({}, "", path);
  else history.pushState({}, "", path);
  return render();
}

function stopCurrentPage() {
  if (typeof cleanup === "function") cleanup();
  cleanup = null;
}

async function render() {
  const renderNumber = ++currentRender;
  const main = document.getElementById("main");
  stopCurrentPage();
  forgetPrefetched();
  const userReady = currentUser();
  const matchReady = matchRoute(location.pathname);
  // A signed-in visitor's page asks for its data while the account is checked: the page waits
  // for one round trip to the API, not two.
  matchReady.then((match) => { if (token()) startPrefetch(match, renderNumber); }, () => {});
  const user = await userReady;
  if (renderNumber !== currentRender) return;
  renderNav(user);
  // Each page draws into its own element: if the visitor moves on before it has loaded, its
  // late writes land in a detached element and never over the next page.
  const root = h("div", { class: "page" }, h("p", { class: "muted" }, "Loading…"));
  main.replaceChildren(root);
  let match;
  try {
    match = await matchReady;
  } catch (error) { // the area's scripts could not load (offline, or a release replaced them)
    if (renderNumber === currentRender) showError(root, error);
    return;
  }
  if (renderNumber !== currentRender) return;
  if (!match) {
    notFound(root);
    return;
  }
  const { route, found } = match;
  if (route.role && !hasRole(user, route.role)) {
    if (!user) return navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    root.replaceChildren(h("h1", {}, "Not for this account"),
      h("p", {}, `This page is for ${route.role} accounts.`));
    return;
  }
  document.title = route.title ? `${route.title} · Beat Market` : "Beat Market";
  let pageCleanup = null;
  try {
    pageCleanup = await route.view({
      root, user, navigate,
      params: paramsOf(found), query: new URLSearchParams(location.search),
    });
  } catch (error) {
    showError(root, error);
  }
  if (renderNumber !== currentRender) {
    if (typeof pageCleanup === "function") pageCleanup(); // superseded: stop its timers now
    return;
  }
  cleanup = pageCleanup;
  if (!history.state || !history.state.keepFocus) main.focus({ preventScroll: true });
}

function paramsOf(found) {
  return Object.fromEntries(Object.entries(found.groups || {}).map(([k, v]) => [k, decodeURIComponent(v)]));
}

// A route may name the API requests its view starts with (`requests`: [path, options] pairs),
// to be sent at once.
function startPrefetch(match, renderNumber) {
  if (!match || !match.route.requests || renderNumber !== currentRender) return;
  for (const [path, options] of match.route.requests()) prefetch(path, options);
}

// Any address no page serves (the server answers those with a 404 status and this shell).
function notFound(root) {
  document.title = "Page not found · Beat Market";
  root.replaceChildren(h("section", { class: "card not-found", "aria-labelledby": "not-found-title" },
    h("h1", { id: "not-found-title" }, "Page not found"),
    h("p", {}, "Nothing lives at this address. The link may be mistyped, or the page may have moved."),
    h("p", { class: "actions center" }, h("a", { href: "/", class: "button primary" }, "Back to the store"))));
}

function renderNav(user) {
  const links = [h("a", { href: "/" }, "Store")];
  if (user) {
    links.push(h("a", { href: "/library" }, "My licenses"), h("a", { href: "/library/offers" }, "My offers"),
      h("a", { href: "/orders" }, "Orders"),
      cartLink(user));
  }
  if (hasRole(user, "beatmaker")) links.push(h("a", { href: "/studio" }, "Studio"));
  if (hasRole(user, "admin")) links.push(h("a", { href: "/admin" }, "Admin"));
  if (user) {
    links.push(h("span", { class: "who" }, user.display_name), h("a", { href: "/account" }, "Account"),
      h("button", { type: "button", class: "link", onclick: async () => {
        await signOut();
        notice("Signed out.");
        navigate("/");
      } }, "Sign out"));
  } else {
    links.push(h("a", { href: "/licenses/verify" }, "Check a license"), h("a", { href: "/signin" }, "Sign in"),
      h("a", { href: "/signup", class: "button" }, "Sign up"));
  }
  for (const link of links) {
    if (link.tagName === "A" && link.getAttribute("href") === location.pathname) link.setAttribute("aria-current", "page");
  }
  document.getElementById("site-nav").replaceChildren(...links);
}

// "Cart (2)": the count follows every change, from this page or another tab.
function cartLink(user) {
  const link = h("a", { href: "/cart", class: "cart-link" });
  const show = () => {
    const size = cartSize(user);
    link.textContent = size ? `Cart (${size})` : "Cart";
  };
  show();
  return link;
}

window.addEventListener("cart-changed", () => renderCartCount());
window.addEventListener("storage", (event) => { if (event.key && event.key.startsWith("cart:")) renderCartCount(); });

async function renderCartCount() {
  const link = document.querySelector("#site-nav .cart-link");
  const user = await currentUser();
  if (link && user) link.replaceWith(cartLink(user));
}

// Same-origin links navigate inside the page; downloads, new tabs and API links do not.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || link.target || link.hasAttribute("download")) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/static/") || url.pathname.startsWith("/files/")) return;
  event.preventDefault();
  closeMenu();
  navigate(url.pathname + url.search + url.hash);
});

function closeMenu() {
  document.getElementById("site-nav").classList.remove("open");
  document.querySelector(".nav-toggle").setAttribute("aria-expanded", "false");
}

document.querySelector(".nav-toggle").addEventListener("click", (event) => {
  const nav = document.getElementById("site-nav");
  const open = nav.classList.toggle("open");
  event.currentTarget.setAttribute("aria-expanded", String(open));
});

window.addEventListener("popstate", render);
render();
