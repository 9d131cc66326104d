/* Hearth chat page: the entry module. Plain browser JavaScript modules, no build step.
 * Wire contract: docs/PROTOCOL.md (events, acks, error codes, objects).
 *
 * The page is made of modules in js/, each owning one part of the page and its state;
 * they hear about each other through js/bus.js. A feature module plugs in by being
 * imported below: it subscribes to server events with onServer() (js/connection.js) and
 * to page events with on() (js/bus.js). */

import { emit, on } from "./js/bus.js";
import { serverNow } from "./js/clock.js";
import { wireComposer } from "./js/composer.js";
import { connect, disconnect } from "./js/connection.js";
import { $ } from "./js/dom.js";
import { closeDialog, openDialog } from "./js/dialog.js";
import { wireFlagDialog } from "./js/flag.js";
import { active, createSession, forgetPeer, isStaff, peerName, setStaff, staffSession } from "./js/identity.js";
import { expireMutes } from "./js/members.js";
import { expireMessages, wireMessages } from "./js/messages.js";
import { clearNotice, notify, wireNoticeClose } from "./js/notice.js";
import { abandonRoom, expireMyMute, leaveView, wireRoom } from "./js/room.js";
import { keepRoomsFresh, loadRooms, wireRooms } from "./js/rooms.js";
import "./js/safety.js"; // quick exit, guidelines, help, alerts, contact warning (docs/SAFETY.md)
import { signIn } from "./js/session.js";
import "./js/moderation-menu.js";
import { expireTyping } from "./js/typing.js";
import { expireElsewhere } from "./js/unread.js";

let recovering = null; // the running recovery from a refused token

function showWelcome() {
  disconnect();
  leaveView();
  $("welcome").hidden = false;
  $("chat").hidden = true;
  $("identity-bar").hidden = true;
  renderStaffForm();
  $("pseudonym-input").focus();
}

function startChat() {
  $("welcome").hidden = true;
  $("chat").hidden = false;
  renderIdentity();
  renderStaffForm();
  const a = active();
  if (a) connect(a.token);
  loadRooms();
  keepRoomsFresh();
}

/* The active identity changed (staff sign-in/out, new token): reconnect and rejoin. */
function restart() {
  leaveView();
  startChat();
  emit("identity", active());
}

function renderIdentity() {
  const a = active();
  $("identity-bar").hidden = !a;
  showAccountMenu(false);
  if (!a) return;
  $("identity-name").textContent = a.identity.pseudonym;
  $("account-full-name").textContent = a.identity.pseudonym;
  const role = $("identity-role");
  role.hidden = !isStaff();
  role.textContent = isStaff() ? a.identity.role : "";
  $("new-identity-button").hidden = !!staffSession();
  $("staff-logout-button").hidden = !staffSession();
  document.body.classList.toggle("is-staff", isStaff());
}

function renderStaffForm() {
  const staff = staffSession();
  $("staff-signin-link").hidden = !!staff;
  $("staff-signin-menu").hidden = !!staff;
  $("staff-signed-in").hidden = !(staff && staff.identity.role === "admin");
}

// ---------------------------------------------------------------- account menu (a disclosure)

function showAccountMenu(on) {
  const menu = $("account-menu");
  const was = !menu.hidden;
  menu.hidden = !on;
  $("account-button").setAttribute("aria-expanded", on ? "true" : "false");
  if (!on && was && menu.contains(document.activeElement)) $("account-button").focus();
}

function wireAccountMenu() {
  $("account-button").addEventListener("click", () => {
    const on = $("account-menu").hidden;
    showAccountMenu(on);
    if (on) $("account-menu").querySelector("button:not([hidden]), a:not([hidden])").focus();
  });
  $("account-menu").addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      showAccountMenu(false);
    }
  });
  document.addEventListener("pointerdown", (e) => {
    if (!$("identity-bar").contains(e.target)) showAccountMenu(false);
  });
  $("identity-bar").addEventListener("focusout", (e) => {
    if (e.relatedTarget && !$("identity-bar").contains(e.relatedTarget)) showAccountMenu(false);
  });
}

function openStaffDialog() {
  showAccountMenu(false);
  openDialog($("staff-dialog"), { focus: $("staff-name") });
}

/* A token was refused: drop it and carry on with a fresh one. Runs once at a time. */
function handleUnauthorized() {
  if (recovering) return recovering;
  recovering = (async () => {
    try {
      if (staffSession()) {
        setStaff(null);
        notify("Your staff sign-in has ended. Please sign in again.", "warn");
      } else if (peerName() !== null) {
        const oldName = peerName();
        forgetPeer();
        let ok = await createSession(oldName);
        if (!ok) ok = await createSession(null);
        if (ok) notify("Your session had ended, so Hearth started a new one for you.", "warn");
      }
      if (active()) restart();
      else showWelcome();
    } finally {
      recovering = null;
    }
  })();
  return recovering;
}

async function staffLogin(event) {
  event.preventDefault();
  const session = await signIn($("staff-name"), $("staff-password"), $("staff-login-button"));
  if (!session) return;
  setStaff(session);
  closeDialog($("staff-dialog"));
  notify("Signed in as " + session.identity.pseudonym + " (" + session.identity.role + ").", "success");
  restart();
  if (document.activeElement === document.body || !document.activeElement) $("rooms-title").focus();
}

function staffLogout() {
  setStaff(null);
  notify("Signed out.", "info");
  if (active()) {
    restart();
    $("rooms-title").focus();
  } else showWelcome();
}

function newIdentity() {
  abandonRoom();
  forgetPeer();
  $("pseudonym-input").value = "";
  showWelcome();
  notify("Your previous identity is gone from this browser. Choose a new name, or leave it empty.", "info");
}

async function start(event) {
  event.preventDefault();
  const name = $("pseudonym-input").value.trim();
  $("start-button").disabled = true;
  const ok = await createSession(name || null);
  $("start-button").disabled = false;
  if (!ok) {
    $("pseudonym-input").focus();
    return;
  }
  clearNotice();
  startChat();
  // Focus goes to the room list (or, with a deep link, to the room once joined).
  $("rooms-title").focus();
}

/* Messages leave the view when they expire; mutes end on time. */
function tick() {
  const now = serverNow();
  expireMessages(now);
  expireMyMute(now);
  expireMutes(now);
  expireTyping();
  expireElsewhere(now);
}

function init() {
  wireNoticeClose();
  wireComposer();
  wireFlagDialog();
  wireMessages();
  wireAccountMenu();
  wireRoom();
  wireRooms();
  $("start-form").addEventListener("submit", start);
  $("staff-form").addEventListener("submit", staffLogin);
  $("staff-signin-link").addEventListener("click", openStaffDialog);
  $("staff-signin-menu").addEventListener("click", openStaffDialog);
  $("staff-cancel").addEventListener("click", () => closeDialog($("staff-dialog")));
  $("staff-logout-button").addEventListener("click", staffLogout);
  $("new-identity-button").addEventListener("click", newIdentity);
  on("unauthorized", handleUnauthorized);
  window.setInterval(tick, 1000);

  if (active()) startChat();
  else showWelcome();
}

init();
