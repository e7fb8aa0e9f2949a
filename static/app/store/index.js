// The storefront's pages: browse and search, a beat, the cart, orders, the buyer's licenses,
// and the public license check.
// Pages for signed-in visitors (orders, licenses) send the others to sign in themselves:
// any account may buy, whatever its role.

import { beatView } from "./beat.js";
import { browseView } from "./browse.js";
import { libraryRequests, libraryView, licenseView } from "./library.js";
import { cartView } from "./cart.js";
import { orderView, ordersRequests, ordersView } from "./order.js";
import { profileView } from "./profile.js";
import { proposalsView } from "./proposals.js";
import { verifyView } from "./verify.js";

export const storeRoutes = [
  { path: "/", title: "Beats", view: browseView },
  { path: "/beats", title: "Beats", view: browseView },
  { path: "/beats/:id", title: "Beat", view: beatView },
  { path: "/cart", title: "Cart", view: cartView },
  { path: "/orders", title: "My orders", view: ordersView, requests: ordersRequests },
  { path: "/orders/:id", title: "Order", view: orderView },
  { path: "/library", title: "My licenses", view: libraryView, requests: libraryRequests },
  { path: "/library/offers", title: "My offers", view: proposalsView },
  { path: "/p/:handle", title: "Profile", view: profileView },
  // Before /licenses/:id, which would take "verify" for an id. Public: no sign-in.
  { path: "/licenses/verify", title: "Check a license", view: verifyView },
  { path: "/licenses/verify/:number", title: "Check a license", view: verifyView },
  { path: "/licenses/:id", title: "License", view: licenseView },
];
