// The codes the API's status, role and reason fields hold (GET /api/v1/codes): filters and
// editors offer these instead of copying the server's lists. Asked once per page load (the
// answer is cached for an hour); labels.js turns each code into the page's words.

import { api } from "./api.js";

let answer = null;

// {beat_statuses: [...], order_statuses, license_statuses, transfer_statuses, report_statuses,
// report_reasons, user_statuses, roles, credit_roles: [{code, label, producer}]}
export function serverCodes() {
  if (!answer) {
    answer = api("/codes").catch((error) => {
      answer = null; // asked again next time
      throw error;
    });
  }
  return answer;
}
