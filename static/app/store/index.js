// Routes of this area: [{path, title, role?, view}]. Filled in by the area's pages.
export const storeRoutes = [];
