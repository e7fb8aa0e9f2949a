// The storefront's pages: browse and search, a beat, an order, the buyer's licenses.
// Pages for signed-in visitors (orders, licenses) send the others to sign in themselves:
// any account may buy, whatever its role.

import { beatView } from "./beat.js";
import { browseView } from "./browse.js";
import { libraryView, licenseView } from "./library.js";
import { orderView } from "./order.js";

export const storeRoutes = [
  { path: "/", title: "Beats", view: browseView },
  { path: "/beats", title: "Beats", view: browseView },
  { path: "/beats/:id", title: "Beat", view: beatView },
  { path: "/orders/:id", title: "Order", view: orderView },
  { path: "/library", title: "My licenses", view: libraryView },
  { path: "/licenses/:id", title: "License", view: licenseView },
];
