// Sign in, sign up and a forgotten password. Sign out lives in the navigation bar.

import { api, currentUser, forgetUser, hasRole, setToken, signIn, upload } from "./api.js";
import { busy, dateTime, errorBox, field, formValues, h, notice, saveFile } from "./ui.js";
import { invitationRoutes, invitationsSection } from "./invitations.js";

// Where to go after signing in: only a page of this site (not "//host" or "/\\host").
function safeNext(query) {
  const next = query.get("next") || "/";
  try {
    const url = new URL(next, location.origin);
    if (next.startsWith("/") && url.origin === location.origin) return url.pathname + url.search + url.hash;
  } catch { /* not a URL at all */ }
  return "/";
}

async function signInView({ root, query, navigate }) {
  const errors = h("div");
  const form = h("form", { class: "card narrow", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    errors,
    field("Email", h("input", { name: "email", type: "email", autocomplete: "email", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    h("p", {}, h("a", { href: "/forgot-password" }, "Forgot your password?")),
    h("p", {}, "New here? ", h("a", { href: "/signup" }, "Create an account")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { email, password } = formValues(form);
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        const user = await signIn(email, password);
        notice(`Signed in as ${user.display_name}.`);
        navigate(safeNext(query));
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    });
  });
  root.replaceChildren(form);
}

async function signUpView({ root, query, navigate }) {
  const errors = h("div");
  const form = h("form", { class: "card narrow", "aria-labelledby": "signup-title" },
    h("h1", { id: "signup-title" }, "Create an account"),
    errors,
    field("Display name", h("input", { name: "display_name", autocomplete: "nickname", required: true, maxlength: 80 })),
    field("Email", h("input", { name: "email", type: "email", autocomplete: "email", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 10 }),
      "At least 10 characters."),
    h("fieldset", {},
      h("legend", {}, "I am"),
      h("label", { class: "choice" }, h("input", { type: "radio", name: "account_type", value: "artist", checked: true }), " an artist buying beats"),
      h("label", { class: "choice" }, h("input", { type: "radio", name: "account_type", value: "beatmaker" }), " a beatmaker selling beats (you can buy too)")),
    h("button", { type: "submit", class: "primary" }, "Create account"),
    h("p", {}, "Already have one? ", h("a", { href: "/signin" }, "Sign in")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = formValues(form);
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        await api("/auth/register", { method: "POST", json: values });
        const user = await signIn(values.email, values.password);
        notice(`Welcome, ${user.display_name}.`);
        navigate(values.account_type === "beatmaker" ? "/studio" : safeNext(query));
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    });
  });
  root.replaceChildren(form);
}

// Asks for a reset link. The answer is the same whether or not the address has an account.
async function forgotPasswordView({ root }) {
  const errors = h("div");
  const form = h("form", { class: "card narrow", "aria-labelledby": "forgot-title" },
    h("h1", { id: "forgot-title" }, "Forgot your password?"),
    h("p", {}, "Enter the address of your account: we will mail you a link to choose a new password."),
    errors,
    field("Email", h("input", { name: "email", type: "email", autocomplete: "email", required: true })),
    h("button", { type: "submit", class: "primary" }, "Mail me a link"),
    h("p", {}, h("a", { href: "/signin" }, "Back to sign in")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { email } = formValues(form);
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        await api("/auth/password-reset", { method: "POST", json: { email } });
        root.replaceChildren(h("div", { class: "card narrow", role: "status" },
          h("h1", {}, "Check your mail"),
          h("p", {}, `If an account uses ${email}, a link to choose a new password is on its way. `
            + "It works once, for 30 minutes."),
          h("p", {}, h("a", { href: "/signin" }, "Back to sign in"))));
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    });
  });
  root.replaceChildren(form);
}

// The page the mailed link opens: a new password, twice. The token alone is the proof.
async function resetPasswordView({ root, query, navigate }) {
  const token = query.get("token") || "";
  const errors = h("div");
  const form = h("form", { class: "card narrow", "aria-labelledby": "reset-title" },
    h("h1", { id: "reset-title" }, "Choose a new password"),
    errors,
    field("New password", h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 10 }),
      "At least 10 characters. Every device signed in to your account will be signed out."),
    field("Repeat it", h("input", { name: "repeat", type: "password", autocomplete: "new-password", required: true, minlength: 10 })),
    h("button", { type: "submit", class: "primary" }, "Set the new password"),
    h("p", {}, h("a", { href: "/forgot-password" }, "Ask for a new link")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { password, repeat } = formValues(form);
    if (password !== repeat) {
      errors.replaceChildren(h("div", { class: "error", role: "alert" }, "The two passwords differ."));
      return;
    }
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        await api("/auth/password-reset/complete", { method: "POST", json: { token, password } });
        notice("Your password is set. Sign in with it.");
        navigate("/signin", { replace: true });
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    });
  });
  if (!token) errors.replaceChildren(h("div", { class: "error", role: "alert" },
    "This page opens from the link in the mail we sent you."));
  root.replaceChildren(form);
}

// The page the verification link opens: the token alone verifies, signed in or not.
async function verifyEmailView({ root, query, user }) {
  root.replaceChildren(h("div", { class: "card narrow", role: "status" }, h("p", {}, "Verifying your address…")));
  try {
    await api("/auth/verify-email", { method: "POST", json: { token: query.get("token") || "" } });
    forgetUser();
    root.replaceChildren(h("div", { class: "card narrow", role: "status" },
      h("h1", {}, "Your address is verified"),
      h("p", {}, "Thank you. You can now sell beats, set up payouts and report beats."),
      h("p", {}, h("a", { href: user ? "/account" : "/signin" }, user ? "Your account" : "Sign in"))));
  } catch (error) {
    const done = error.code === "email_already_verified";
    root.replaceChildren(h("div", { class: "card narrow" },
      h("h1", {}, done ? "Your address is verified" : "This link does not work"),
      done ? h("p", {}, "It was verified already: nothing more to do.") : errorBox(error),
      h("p", {}, h("a", { href: "/account" }, "Your account"))));
  }
}

// The page the link mailed to a new address opens: the token alone confirms, signed in or not.
// Every other session of the account ends; this one stays if it is signed in to the account.
async function confirmEmailView({ root, query }) {
  root.replaceChildren(h("div", { class: "card narrow", role: "status" }, h("p", {}, "Confirming your new address…")));
  try {
    const { email } = await api("/auth/confirm-email", { method: "POST", json: { token: query.get("token") || "" } });
    forgetUser();
    // Still signed in only when this browser was signed in to the account that changed.
    const user = await currentUser();
    const stillSignedIn = Boolean(user && user.email === email);
    root.replaceChildren(h("div", { class: "card narrow", role: "status" },
      h("h1", {}, "Your new address is confirmed"),
      h("p", {}, stillSignedIn ? `You now sign in with ${email}. Your other devices are signed out.`
        : `Sign in with ${email} from now on. Every device signed in to your account is signed out.`),
      h("p", {}, h("a", { href: stillSignedIn ? "/account" : "/signin" }, stillSignedIn ? "Your account" : "Sign in"))));
  } catch (error) {
    root.replaceChildren(h("div", { class: "card narrow" },
      h("h1", {}, "This link does not work"),
      errorBox(error),
      h("p", {}, h("a", { href: "/account" }, "Your account"))));
  }
}

// The page an unsubscribe link in a mail opens: the token alone turns that kind of mail off.
const MAIL_NAMES = { sale_notices: "sale notices", marketing: "news and offers" };

async function unsubscribeView({ root, query, user }) {
  root.replaceChildren(h("div", { class: "card narrow", role: "status" }, h("p", {}, "Turning these mails off…")));
  const token = query.get("token") || "";
  try {
    const done = await api("/mail-preferences/unsubscribe", { method: "POST", query: { token } });
    root.replaceChildren(h("div", { class: "card narrow", role: "status" },
      h("h1", {}, "You are unsubscribed"),
      h("p", {}, `We will send you no more ${MAIL_NAMES[done.category] || "mails of this kind"}. `
        + "Receipts, security mails and notices about your account still come."),
      h("p", {}, h("a", { href: user ? "/account#mail-settings" : "/signin?next=%2Faccount" },
        "Change which mails you get"))));
  } catch (error) {
    root.replaceChildren(h("div", { class: "card narrow" },
      h("h1", {}, "This link does not work"), errorBox(error),
      h("p", {}, h("a", { href: "/account#mail-settings" }, "Your mail settings"))));
  }
}

// Unverified: say what waits for it, and send the link again on request.
function verificationNotice(user) {
  if (user.email_verified) return null;
  const box = h("div", { class: "card", role: "region", "aria-label": "Address not verified" },
    h("p", {}, `Your address ${user.email} is not verified yet. Selling beats, payouts and reports wait for it: `
      + "open the link we mailed you."),
    h("button", { type: "button", onclick: (event) => busy(event.currentTarget, async () => {
      try {
        await api("/me/verification-email", { method: "POST" });
        notice(`A new link is on its way to ${user.email}.`);
      } catch (error) {
        box.append(errorBox(error));
      }
    }) }, "Send the link again"));
  return box;
}

// An artist starts selling from this same account (one account, both roles): one button, then
// the studio. Admin accounts judge sellers, so they are not offered it.
function sellingSection(user, navigate) {
  if (hasRole(user, "admin")) return null;
  const section = h("section", { class: "card narrow", "aria-labelledby": "selling-title" });
  if (hasRole(user, "beatmaker")) {
    section.append(h("h2", { id: "selling-title" }, "Selling beats"),
      h("p", {}, "You sell beats from this account, and you can still buy licenses."),
      h("p", { class: "actions" }, h("a", { href: "/studio", class: "button primary" }, "Open your studio")));
    return section;
  }
  const errors = h("div");
  const start = h("button", { type: "button", class: "primary" }, "Start selling beats");
  start.addEventListener("click", () => busy(start, async () => {
    errors.replaceChildren();
    try {
      await api("/me/become-beatmaker", { method: "POST" });
      forgetUser();
      notice("You can sell beats now: upload your first one in your studio.");
      await navigate("/account", { replace: true });
    } catch (error) {
      errors.replaceChildren(errorBox(error));
    }
  }));
  section.append(...[h("h2", { id: "selling-title" }, "Start selling beats"),
    h("p", {}, "Upload your beats and sell licenses from this same account. Your orders and licenses stay here, "
      + "and you can still buy."),
    user.email_verified ? null : h("p", { class: "hint" }, "Verify your address first: selling needs it."),
    errors, h("div", { class: "actions" }, start)].filter(Boolean));
  return section;
}

// A new address: asked for with the password, waiting for the link mailed there (shown, and
// cancellable, until it is opened).
function emailSection(user) {
  const section = h("section", { class: "card narrow", "aria-labelledby": "email-title" });
  const errors = h("div");
  const pendingBox = h("div");
  const drawPending = async () => {
    const pending = await api("/me/email-change");  // null (204) when no change is waiting
    pendingBox.replaceChildren(...(pending ? [h("div", { class: "pending-email", role: "status" },
      h("p", {}, h("strong", {}, `Waiting for confirmation: ${pending.new_email}. `),
        `Open the link we mailed there; it works until ${dateTime(pending.expires_at)}.`),
      h("button", { type: "button", onclick: (event) => busy(event.currentTarget, async () => {
        await api("/me/email-change", { method: "DELETE" });
        notice("The change of address is cancelled.");
        await drawPending();
      }) }, "Cancel the change"))] : []));
  };
  const form = h("form", {},
    errors,
    field("New email address",
      h("input", { name: "new_email", type: "email", autocomplete: "email", required: true, maxlength: 254 })),
    field("Your password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true }),
      "We mail a link to the new address; the change happens when you open it, and your other devices are signed out."),
    h("button", { type: "submit", class: "primary" }, "Change email"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = formValues(form);
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        const pending = await api("/me/email", { method: "POST", json: values });
        form.reset();
        errors.replaceChildren();
        notice(`A link to confirm ${pending.new_email} is on its way there.`);
        await drawPending();
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    });
  });
  section.append(h("h2", { id: "email-title" }, "Email address"),
    h("p", {}, `You sign in with ${user.email}.`), pendingBox, form);
  return { section, drawPending };
}

// The public profile: a handle (their page is /p/handle), name, bio, links and avatar.
function profileSection(user) {
  const section = h("section", { class: "card narrow", "aria-labelledby": "profile-title" });
  const errors = h("div");
  const pageLink = h("p", { class: "profile-page-link" });
  const avatarBox = h("div", { class: "avatar-row" });
  const input = (name, attributes = {}) => h("input", { name, ...attributes });
  const form = h("form", { "aria-label": "Profile details" },
    errors,
    field("Handle", input("handle", { autocomplete: "off", spellcheck: false, maxlength: 31, placeholder: "your.name" }),
      "3 to 30 letters A–Z, digits, _ and . — your page will be at /p/handle. Leave empty for no public page."),
    field("Display name", input("display_name", { required: true, maxlength: 80 })),
    field("Bio", h("textarea", { name: "bio", maxlength: 1000, rows: 4 }), "Up to 1000 characters."),
    field("Links", h("textarea", { name: "links", rows: 3, spellcheck: false }), "One https:// address a line, up to 5."),
    h("button", { type: "submit", class: "primary" }, "Save profile"));
  const avatarInput = h("input", { type: "file", name: "file", accept: ".jpg,.jpeg,.png,.webp,image/jpeg,image/png,image/webp" });
  const avatarForm = h("form", { "aria-label": "Upload an avatar" },
    field("Avatar", avatarInput, "JPEG, PNG or WebP, cropped to a square; shown once your public page exists."),
    h("button", { type: "submit" }, "Upload avatar"));
  const show = (profile) => {
    form.elements.handle.value = profile.handle || "";
    form.elements.display_name.value = profile.display_name;
    form.elements.bio.value = profile.bio;
    form.elements.links.value = profile.links.join("\n");
    pageLink.replaceChildren(...(profile.handle
      ? ["Your public page: ", h("a", { href: `/p/${encodeURIComponent(profile.handle)}` }, `/p/${profile.handle}`)]
      : ["Claim a handle to have a public page that your beats and credits link to."]));
    avatarBox.replaceChildren(profile.avatar_url
      ? h("img", { class: "avatar", src: `${profile.avatar_url}&size=96`, alt: "Your avatar" }) : "");
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = formValues(form);
    const json = { handle: values.handle.trim() || null, display_name: values.display_name, bio: values.bio,
      links: values.links.split("\n").map((line) => line.trim()).filter(Boolean) };
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        show(await api("/me/profile", { method: "PUT", json }));
        forgetUser();
        errors.replaceChildren();
        notice("Profile saved.");
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    });
  });
  avatarForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(avatarForm.querySelector("button[type=submit]"), async () => {
      try {
        show(await upload("/me/profile/avatar", new FormData(avatarForm)));
        avatarForm.reset();
        errors.replaceChildren();
        notice("Avatar saved.");
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    });
  });
  section.append(h("h2", { id: "profile-title" }, "Public profile"), pageLink, form, avatarBox, avatarForm);
  const load = async () => show(await api("/me/profile"));
  return { section, load };
}

// A copy of everything the store holds about the person, saved as a JSON file.
function exportSection() {
  const errors = h("div");
  return h("section", { class: "card narrow", "aria-labelledby": "export-title" },
    h("h2", { id: "export-title" }, "Your data"),
    h("p", {}, "Download a copy of what the store holds about you: profile, devices, orders, licenses, beats, "
      + "sales, payouts, reports and strikes, as one JSON file."),
    errors,
    h("button", { type: "button", onclick: (event) => busy(event.currentTarget, async () => {
      try {
        const data = await api("/me/export");
        const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
        saveFile(blob, `my-data-${new Date().toISOString().slice(0, 10)}.json`);
        errors.replaceChildren();
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    }) }, "Download my data"));
}

// Closing the account: a first button shows what happens and asks for the password.
function closeSection(navigate) {
  const section = h("section", { class: "card narrow", "aria-labelledby": "close-title" });
  const start = h("button", { type: "button", class: "danger" }, "Close my account…");
  const errors = h("div");
  const form = h("form", { hidden: true, "aria-label": "Confirm closing your account" },
    h("p", {}, "Closing is final. Your name and address are removed from the account, every device is signed out "
      + "and your beats leave the store. Licenses you bought and sold stay valid, and money owed to you is still "
      + "paid out. Download your data, files and contracts first: you cannot sign in afterwards."),
    errors,
    field("Your password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "danger" }, "Close my account for good"),
      h("button", { type: "button", onclick: () => {
        form.hidden = true;
        start.hidden = false;
        form.reset();
        errors.replaceChildren();
      } }, "Keep my account")));
  start.addEventListener("click", () => {
    start.hidden = true;
    form.hidden = false;
    form.querySelector("input[name=password]").focus();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { password } = formValues(form);
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        await api("/me/close", { method: "POST", json: { password } });
        setToken(null);
        forgetUser();
        notice("Your account is closed. Thank you for having been here.");
        navigate("/", { replace: true });
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    });
  });
  section.append(h("h2", { id: "close-title" }, "Close account"), start, form);
  return section;
}

// The signed-in person's account: address, password, devices signed in, their data, closing.

// The mails one may turn off, each a checkbox saved as soon as it changes. The others always go.
const MAIL_SWITCHES = [
  ["sale_notices", "Sale notices", "A mail for each sale of a beat you are credited on, with your share."],
  ["marketing", "News and offers", "Now and then, news of the store and offers."],
];

async function mailSettings() {
  const preferences = await api("/me/mail-preferences");
  const errors = h("div");
  const box = h("form", { class: "card narrow mail-settings", id: "mail-settings", "aria-labelledby": "mail-settings-title" },
    h("h2", { id: "mail-settings-title" }, "Mail settings"),
    errors,
    h("fieldset", {},
      h("legend", {}, "Send me"),
      ...MAIL_SWITCHES.map(([name, label, hint]) => {
        const id = `mail-${name}`;
        const checkbox = h("input", { type: "checkbox", id, name, checked: preferences[name],
          "aria-describedby": `${id}-hint`, onchange: (event) => save(event.currentTarget) });
        return h("div", { class: "switch" },
          h("label", { class: "choice", for: id }, checkbox, ` ${label}`),
          h("p", { class: "muted hint", id: `${id}-hint` }, hint));
      })),
    h("p", { class: "muted" }, "Always sent, whatever you choose here: address verification, password resets, "
      + "warnings about sign-in attempts, receipts and refunds, moderation notices, payouts sent, and news that "
      + "a beat you lease was sold exclusively."));
  async function save(checkbox) {
    checkbox.disabled = true;
    try {
      const saved = await api("/me/mail-preferences", { method: "PATCH", json: { [checkbox.name]: checkbox.checked } });
      checkbox.checked = saved[checkbox.name];
      errors.replaceChildren();
      const label = MAIL_SWITCHES.find(([name]) => name === checkbox.name)[1];
      notice(`${label}: ${saved[checkbox.name] ? "on" : "off"}.`);
    } catch (error) {
      checkbox.checked = !checkbox.checked;
      errors.replaceChildren(errorBox(error));
    } finally {
      checkbox.disabled = false;
    }
  }
  box.addEventListener("submit", (event) => event.preventDefault());
  return box;
}

// The requests its sections start with, sent early by the router (see startPrefetch in main.js).
function accountRequests() {
  return [["/me/mail-preferences"], ["/me/sessions"], ["/me/email-change"], ["/me/profile"],
    ["/me/credit-invitations"]];
}

// The signed-in person's account: a new password, and the sessions (devices) signed in.
async function accountView({ root, user, navigate }) {
  if (!user) return navigate(`/signin?next=${encodeURIComponent(location.pathname)}`, { replace: true });
  const sessionsBox = h("section", { class: "sessions", "aria-labelledby": "sessions-title" });
  const drawSessions = async () => {
    const sessions = await api("/me/sessions");
    sessionsBox.replaceChildren(
      h("h2", { id: "sessions-title" }, "Where you are signed in"),
      h("div", { class: "table-scroll" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Device", "Address", "Signed in", "Last used", ""].map((label) => h("th", { scope: "col" }, label)))),
        h("tbody", {}, sessions.map((session) => h("tr", {},
          h("td", {}, session.user_agent || "Unknown device"),
          h("td", {}, session.address || "—"),
          h("td", {}, dateTime(session.created_at)),
          h("td", {}, session.last_used_at ? dateTime(session.last_used_at) : "—"),
          h("td", {}, session.current ? h("strong", {}, "This device") : h("button", {
            type: "button", "aria-label": `Sign out ${session.user_agent || "this device"}`,
            onclick: (event) => busy(event.currentTarget, async () => {
              await api(`/me/sessions/${encodeURIComponent(session.id)}`, { method: "DELETE" });
              notice("That device is signed out.");
              await drawSessions();
            }) }, "Sign out"))))))),
      h("button", { type: "button", onclick: (event) => busy(event.currentTarget, async () => {
        await api("/auth/logout-everywhere", { method: "POST" });
        setToken(null);
        forgetUser();
        notice("Signed out everywhere, this device too.");
        navigate("/signin");
      }) }, "Sign out everywhere"));
  };

  const errors = h("div");
  const form = h("form", { class: "card narrow", "aria-labelledby": "password-title" },
    h("h2", { id: "password-title" }, "Change your password"),
    errors,
    field("Current password", h("input", { name: "current_password", type: "password", autocomplete: "current-password", required: true })),
    field("New password", h("input", { name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 10 }),
      "At least 10 characters. Your other devices will be signed out."),
    h("button", { type: "submit", class: "primary" }, "Change password"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = formValues(form);
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        await api("/me/password", { method: "POST", json: values });
        form.reset();
        errors.replaceChildren();
        notice("Password changed. Your other devices are signed out.");
        await drawSessions();
      } catch (error) {
        errors.replaceChildren(errorBox(error));
      }
    });
  });
  const email = emailSection(user);
  const profile = profileSection(user);
  const invitations = invitationsSection();
  // Every section's data is asked for at once, and the page drawn when all have come: one round
  // trip, and no section grows under the reader's eyes and pushes the others down.
  const [mailBox] = await Promise.all([mailSettings(), drawSessions(), email.drawPending(), profile.load(),
    invitations.load()]);
  root.replaceChildren(h("h1", {}, "Your account"),
    ...[h("p", {}, `${user.display_name} · ${user.email}`), verificationNotice(user), invitations.section,
      sellingSection(user, navigate), profile.section, email.section, form, mailBox, sessionsBox, exportSection(),
      closeSection(navigate)]
      .filter(Boolean));
  if (location.hash === "#credit-invitations") invitations.section.scrollIntoView();
  // Opened from a mail's "mail settings" link: show that section.
  if (location.hash === "#mail-settings") mailBox.scrollIntoView();
}

export const accountRoutes = [
  { path: "/account", title: "Your account", view: accountView, requests: accountRequests },
  { path: "/signin", title: "Sign in", view: signInView },
  { path: "/signup", title: "Sign up", view: signUpView },
  { path: "/forgot-password", title: "Forgot your password", view: forgotPasswordView },
  { path: "/reset-password", title: "Choose a new password", view: resetPasswordView },
  { path: "/verify-email", title: "Verify your address", view: verifyEmailView },
  { path: "/confirm-email", title: "Confirm your new address", view: confirmEmailView },
  { path: "/unsubscribe", title: "Unsubscribe", view: unsubscribeView },
  ...invitationRoutes,
];
