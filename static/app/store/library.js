// The buyer's licenses: the list, and one license with its terms, contract and files.

import { api, apiFile } from "../api.js";
import { busy, date, dateTime, errorBox, h } from "../ui.js";
import { money } from "../money.js";
import { poll } from "../poll.js";
import { openPaymentPage, sendToSignIn } from "./common.js";
import { frozenTerms, termsList } from "./terms.js";

const FILE_WORDS = { mp3: "MP3", wav: "WAV", stems: "Stems (ZIP)" };

function statusBadge(license) {
  if (license.status === "superseded") return h("span", { class: "badge" }, "Upgraded");
  if (license.status !== "active") return h("span", { class: "badge bad" }, "Revoked");
  if (license.downloads_frozen) return h("span", { class: "badge bad" }, "Disputed");
  return h("span", { class: "badge ok" }, "Active");
}

// The requests the page starts with, sent early by the router (see startPrefetch in main.js).
export function libraryRequests() {
  return [["/licenses"]];
}

export async function libraryView({ root, user, navigate }) {
  if (!user) return sendToSignIn(navigate);
  const licenses = await api(...libraryRequests()[0]);
  if (!licenses.length) {
    root.replaceChildren(h("h1", {}, "My licenses"),
      h("p", {}, "You have no licenses yet. ", h("a", { href: "/" }, "Find a beat in the store.")));
    return;
  }
  root.replaceChildren(h("h1", {}, "My licenses"),
    h("ul", { class: "library" }, licenses.map((license) => h("li", { class: "card library-item" },
      h("h2", {}, h("a", { href: `/licenses/${encodeURIComponent(license.id)}` }, license.beat.title)),
      h("p", {}, `${license.tier.name} · by ${license.beat.beatmaker} · `, statusBadge(license)),
      h("p", { class: "muted" }, `License ${license.license_number}, issued ${date(license.issued_at)}`),
      license.status === "active" && license.kind === "lease" ? upgradeBlock(license, navigate) : ""))));
}

// "Upgrade": the higher licenses of the beat, each priced by the server at the difference,
// checked out at once (the payment page, or the order when there is nothing to pay).
function upgradeBlock(license, navigate) {
  const box = h("div", { class: "upgrade-options" });
  const button = h("button", { type: "button", "aria-expanded": "false" }, "Upgrade");
  button.addEventListener("click", () => busy(button, async () => {
    if (button.getAttribute("aria-expanded") === "true") {
      button.setAttribute("aria-expanded", "false");
      box.replaceChildren();
      return;
    }
    try {
      const answer = await api(`/licenses/${encodeURIComponent(license.id)}/upgrades`);
      box.replaceChildren(upgradeList(license, answer, navigate));
      button.setAttribute("aria-expanded", "true");
    } catch (error) {
      box.replaceChildren(errorBox(error));
    }
  }));
  return h("div", { class: "upgrade" }, button, box);
}

function upgradeList(license, answer, navigate) {
  if (!answer.upgradable) return h("p", {}, answer.reason);
  if (!answer.options.length) return h("p", {}, "This beat offers no higher license today.");
  return h("ul", { class: "upgrade-list" }, answer.options.map((option) => {
    const pay = h("button", { type: "button", disabled: !option.available },
      option.price.amount ? `Upgrade for ${money(option.price)}` : "Upgrade at no cost");
    const result = h("div", {});
    pay.addEventListener("click", () => busy(pay, () => checkOutUpgrade(license, option, result, navigate)));
    return h("li", {},
      h("strong", {}, option.tier_name), " ",
      h("span", { class: "muted" }, `${money(option.list_price)} less the ${money(option.credit)} you paid`),
      " ", pay, option.reason ? h("p", { class: "muted" }, option.reason) : "", result);
  }));
}

async function checkOutUpgrade(license, option, result, navigate) {
  try {
    const answer = await api("/checkout", { method: "POST", json: {
      items: [{ kind: "upgrade", license_id: license.id, tier_id: option.tier_id }] } });
    if (!answer.checkout_url) {
      navigate(`/orders/${encodeURIComponent(answer.order_id)}`);
      return;
    }
    openPaymentPage(answer, result);
  } catch (error) {
    result.replaceChildren(errorBox(error));
  }
}

function size(bytes) {
  if (!bytes && bytes !== 0) return "";
  const units = ["bytes", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toLocaleString("en", { maximumFractionDigits: unit ? 1 : 0 })} ${units[unit]}`;
}

function summary(license) {
  const rows = [
    ["License number", license.license_number],
    ["Status", statusBadge(license)],
    ["Beat", h("a", { href: `/beats/${encodeURIComponent(license.beat.id)}` }, license.beat.title)],
    ["Beatmaker", license.beat.beatmaker],
    ["License", license.tier.name],
    ["Licensee", license.licensee],
    ["Price", license.kind === "free" ? "Free" : money(license.price)],
    ["Issued", dateTime(license.issued_at)],
    license.revoked_at ? ["Revoked", dateTime(license.revoked_at)] : null,
    license.superseded_by ? ["Upgraded to", h("a", { href: `/licenses/${encodeURIComponent(license.superseded_by.id)}` },
      license.superseded_by.license_number)] : null,
    license.upgrade_of ? ["Upgrade of", h("a", { href: `/licenses/${encodeURIComponent(license.upgrade_of.id)}` },
      license.upgrade_of.license_number)] : null,
    ["Public check", h("a", { href: `/licenses/verify/${encodeURIComponent(license.license_number)}` },
      "Anyone can check this license")],
  ].filter(Boolean);
  return h("dl", { class: "terms" }, rows.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]));
}

function creditsBlock(credits) {
  if (!credits.length) return null;
  return h("section", { class: "card store-section", "aria-labelledby": "license-credits" },
    h("h2", { id: "license-credits" }, "Credits"),
    h("ul", { class: "credits" }, credits.map((credit) =>
      h("li", {}, h("span", { class: "muted" }, credit.role_label || credit.role), " ", credit.name))));
}

// The contract needs the bearer token, so a plain link cannot fetch it: the page fetches it
// and offers it as a blob URL (revoked when the page is left).
function contractBlock(license, blobUrls) {
  const box = h("div", { class: "contract" }, h("p", { role: "status" }, "The contract is being prepared…"));
  const section = h("section", { class: "card store-section", "aria-labelledby": "license-contract" },
    h("h2", { id: "license-contract" }, "Contract"), box);
  let shown = false;
  section.update = async (current) => {
    if (shown || !current.contract_ready) return;
    shown = true;
    let pdf;
    try {
      // Opened as a PDF whatever type the response claims, so the browser never renders it as a page.
      pdf = new Blob([await apiFile(`/licenses/${encodeURIComponent(current.id)}/contract.pdf`)], { type: "application/pdf" });
    } catch (error) {
      shown = false; // asked again on the next check
      if (error.code !== "network_error") return;
      const again = h("button", { type: "button" }, "Try again");
      again.addEventListener("click", () => busy(again, () => section.update(current)));
      box.replaceChildren(errorBox(new Error("The contract could not be fetched: the server could not be reached. "
        + "Check your connection and try again.")), again);
      return;
    }
    const url = URL.createObjectURL(pdf);
    blobUrls.push(url);
    box.replaceChildren(h("p", { class: "actions" },
      h("a", { class: "button", href: url, target: "_blank", rel: "noopener" }, "Open the contract (PDF)"),
      h("a", { class: "button", href: url, download: `${current.license_number}.pdf` }, "Save the contract (PDF)")));
  };
  return section;
}

function downloadList(links, files) {
  const sizes = Object.fromEntries(files.map((file) => [file.kind, file.size]));
  return h("ul", { class: "downloads" }, links.map((link) => h("li", {},
    link.ready
      ? h("a", { class: "button", href: link.url, download: link.filename || "" },
        `Download ${FILE_WORDS[link.kind] || link.kind}`)
      : h("span", {}, `${FILE_WORDS[link.kind] || link.kind}: being prepared…`),
    link.ready ? h("span", { class: "muted" }, ` ${link.filename} · ${size(sizes[link.kind])}`) : null)));
}

// Signed links expire: "Get fresh links" asks again, as does every check while files are
// still being prepared.
function downloadsBlock(license) {
  const box = h("div", { class: "download-box" });
  const refresh = h("button", { type: "button", class: "refresh-links" }, "Get fresh links");
  const section = h("section", { class: "card store-section", "aria-labelledby": "license-downloads" },
    h("h2", { id: "license-downloads" }, "Files"), box, refresh);
  let files = license.files;
  let readyShown = -1;
  const load = async () => {
    try {
      const links = await api(`/licenses/${encodeURIComponent(license.id)}/downloads`);
      const until = links.find((link) => link.expires_at);
      box.replaceChildren(downloadList(links, files),
        until ? h("p", { class: "muted", role: "status" }, `These links work until ${dateTime(until.expires_at)}.`) : "");
    } catch (error) {
      box.replaceChildren(errorBox(error));
      refresh.hidden = true;
    }
  };
  refresh.addEventListener("click", () => busy(refresh, load));
  section.update = (current) => {
    files = current.files;
    const ready = files.filter((file) => file.ready).length;
    if (ready === readyShown) return null;
    readyShown = ready;
    return load();
  };
  return section;
}

// A free download's license: what it allows, in words.
function freeTerms(terms) {
  return ["Free license for non-profit use only: nothing sold, monetised or performed for pay.",
    terms.commercial_use, "Files: the preview MP3, with the producer's voice tag.",
    `Credit required: “${terms.credit_line}”.`,
    "It stays valid for non-profit use after the exclusive rights are sold."];
}

function allReady(license) {
  return license.contract_ready && license.files.every((file) => file.ready);
}

// Files and the contract are made just after the sale: until they are, the page checks again.
const CHECK_SECONDS = 2;

export async function licenseView({ root, params, user, navigate }) {
  if (!user) return sendToSignIn(navigate);
  const path = `/licenses/${encodeURIComponent(params.id)}`;
  const license = await api(path);
  document.title = `License ${license.license_number} · Beat Market`;
  const blobUrls = [];
  const contract = contractBlock(license, blobUrls);
  const downloads = downloadsBlock(license);
  root.replaceChildren(
    h("p", {}, h("a", { href: "/library" }, "← My licenses")),
    h("h1", {}, `${license.beat.title}: ${license.tier.name}`),
    h("section", { class: "card" }, summary(license)),
    h("section", { class: "card store-section", "aria-labelledby": "license-terms" },
      h("h2", { id: "license-terms" }, "Terms"),
      termsList(license.kind === "free" ? freeTerms(license.terms) : frozenTerms(license.terms))),
    creditsBlock(license.credits) || "",
    contract,
    downloads);

  let stopPolling = () => {};
  let stopped = false;
  // Shows the license as it is now; true when there is nothing more to wait for.
  const show = async (current) => {
    await Promise.all([contract.update(current), downloads.update(current)]);
    return stopped || allReady(current) || current.status !== "active";
  };
  // A failed check stops the checks, saying why.
  const check = async () => {
    try {
      return await show(await api(path));
    } catch (error) {
      if (!stopped) root.append(errorBox(error));
      return true;
    }
  };
  show(license).then((done) => { if (!done) stopPolling = poll(check, CHECK_SECONDS); });
  return () => {
    stopped = true;
    stopPolling();
    blobUrls.forEach((url) => URL.revokeObjectURL(url));
  };
}
