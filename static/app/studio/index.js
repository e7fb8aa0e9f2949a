// The studio: where beatmakers upload beats, set credits and prices, place their voice tag,
// edit license tiers and follow their sales. Every page is for beatmaker accounts only.

import { beatView } from "./beat.js";
import { dashboardRequests, dashboardView } from "./dashboard.js";
import { dealsView } from "./deals.js";
import { proposalsView } from "./proposals.js";
import { payoutsView, salesRequests, salesView } from "./sales.js";
import { statsView } from "./stats.js";
import { tiersRequests, tiersView } from "./tiers.js";
import { uploadView } from "./upload.js";
import { voiceTagView } from "./voice-tag.js";

const BEATMAKER = "beatmaker";

export const studioRoutes = [
  { path: "/studio", title: "Studio", role: BEATMAKER, view: dashboardView, requests: dashboardRequests },
  { path: "/studio/upload", title: "Upload a beat", role: BEATMAKER, view: uploadView },
  { path: "/studio/beats/:id", title: "Edit beat", role: BEATMAKER, view: beatView },
  { path: "/studio/voice-tag", title: "Voice tag", role: BEATMAKER, view: voiceTagView },
  { path: "/studio/tiers", title: "License tiers", role: BEATMAKER, view: tiersView, requests: tiersRequests },
  { path: "/studio/sales", title: "Sales and earnings", role: BEATMAKER, view: salesView, requests: salesRequests },
  { path: "/studio/stats", title: "Statistics", role: BEATMAKER, view: statsView },
  { path: "/studio/deals", title: "Deals and coupons", role: BEATMAKER, view: dealsView },
  { path: "/studio/offers", title: "Offers", role: BEATMAKER, view: proposalsView },
  // Stripe's onboarding comes back here, for beatmakers and credited collaborators alike.
  { path: "/payouts", title: "Payouts", view: payoutsView, requests: salesRequests },
];
