/* Safety on the chat page (docs/SAFETY.md): the quick exit, "Forget me on this device",
 * guidelines before a first join, "Need help?" with resources and private replies, the
 * unattended banner, the contact-details warning before sending, and staff alerts.
 *
 * Everything here is private to the person concerned: nothing is shown to the room. The
 * module builds its own elements, so the page's HTML only has to import it. */

import { emit, on } from "./bus.js";
import { addSendCheck } from "./composer.js";
import { onServer, request } from "./connection.js";
import { $, clear, el } from "./dom.js";
import { formatTime } from "./format.js";
import { isStaff, staffSession } from "./identity.js";
import { api } from "./net.js";
import { notify } from "./notice.js";
import { here, isHere } from "./room-state.js";

const DEFAULT_EXIT = "https://www.bbc.co.uk/weather";
const ESCAPE_WINDOW_MS = 1500;
const CONTEXT_BEFORE = 3; // messages shown before the one an alert is about
const KEPT_MESSAGES = 300;

let exitUrl = document.body.dataset.quickExit || DEFAULT_EXIT;
let resources = [];
let lastEscape = 0;
const recent = []; // the latest messages seen, for the context of an alert
const awaitingContext = new Map(); // message id -> alert item whose message has not been shown yet

/* ---------- quick exit and forgetting ---------- */

export function quickExit() {
  document.body.hidden = true; // nothing readable stays on screen while the next page loads
  window.location.replace(exitUrl);
}

function forgetMe() {
  for (const storage of [window.localStorage, window.sessionStorage]) {
    try {
      for (const key of Object.keys(storage)) if (key.startsWith("hearth.")) storage.removeItem(key);
    } catch (_e) {
      /* storage unavailable: nothing was kept */
    }
  }
  emit("forgotten");
  window.location.replace("/");
}

/* Modal dialogs make the rest of the page inert, so each carries its own quick exit. */
function exitButton() {
  return el("button", { type: "button", class: "quick-exit quick-exit-small", text: "Quick exit", on: { click: quickExit } });
}

function buildExit() {
  const bar = el(
    "div",
    { class: "safety-bar", role: "region", "aria-label": "Safety" },
    el("button", {
      type: "button",
      id: "quick-exit",
      class: "quick-exit",
      dataset: { testid: "quick-exit" },
      title: "Leave Hearth at once (or press Escape twice)",
      text: "Quick exit",
      on: { click: quickExit },
    }),
  );
  const slot = $("header-actions"); // the page's slot for page-wide buttons, when it has one
  if (slot) slot.append(...bar.childNodes);
  else document.body.prepend(bar);
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    // An Escape that closed something (a menu, a drawer, a dialog) was used; it does not count.
    if (e.defaultPrevented || (e.target.closest && e.target.closest("dialog[open]"))) return;
    const now = Date.now();
    if (now - lastEscape <= ESCAPE_WINDOW_MS) quickExit();
    lastEscape = now;
  });
  const idBar = $("account-menu") || $("identity-bar");
  if (idBar) {
    idBar.append(
      el("button", {
        type: "button",
        id: "forget-me",
        class: "button-quiet",
        dataset: { testid: "forget-me" },
        title: "Remove your identity from this browser",
        text: "Forget me on this device",
        on: { click: forgetMe },
      }),
    );
  }
}

/* ---------- resources and the help panel ---------- */

function resourceList(list) {
  const items = (list && list.length ? list : resources).map((r) =>
    el(
      "li",
      { class: "resource", dataset: { testid: "resource" } },
      el("strong", { text: r.name }),
      r.region ? el("span", { class: "hint", text: " (" + r.region + ")" }) : null,
      r.phone ? el("div", {}, "Phone: ", el("a", { href: "tel:" + r.phone.replace(/[^+\d]/g, ""), text: r.phone })) : null,
      r.text ? el("div", { text: r.text }) : null,
      r.url ? el("div", {}, el("a", { href: r.url, target: "_blank", rel: "noopener noreferrer", text: r.url })) : null,
      r.hours ? el("div", { class: "hint", text: r.hours }) : null,
    ),
  );
  return el("ul", { class: "resources" }, ...items);
}

function helpDialog() {
  let dialog = $("help-dialog");
  if (dialog) return dialog;
  dialog = el(
    "dialog",
    { id: "help-dialog", class: "dialog help-dialog", "aria-labelledby": "help-title", dataset: { testid: "help-dialog" } },
    el("div", { class: "dialog-head" }, el("h2", { id: "help-title", text: "Need help?" }), exitButton()),
    el("p", { id: "help-lead", class: "help-lead" }),
    el("div", { id: "help-replies", class: "help-replies", "aria-live": "polite" }),
    el(
      "form",
      { id: "help-form", class: "stack", novalidate: true },
      el("label", { for: "help-text", text: "You can ask a facilitator privately. Nobody else in the room will see this." }),
      el("textarea", {
        id: "help-text",
        rows: "3",
        maxlength: "500",
        placeholder: "A few words, if you like (optional)",
        dataset: { testid: "help-text" },
      }),
      el("button", { type: "submit", id: "help-send", class: "button-primary", dataset: { testid: "help-send" }, text: "Ask a facilitator" }),
      el("p", { id: "help-status", class: "help-status", role: "status", dataset: { testid: "help-status" } }),
    ),
    el("h3", { text: "People you can talk to now" }),
    el("div", { id: "help-resources", dataset: { testid: "support-resources" } }),
    el("p", { class: "hint", text: "If you are in immediate danger, call your local emergency number." }),
    el("div", { class: "dialog-buttons" }, el("button", { type: "button", id: "help-close", text: "Close", on: { click: () => dialog.close() } })),
  );
  document.body.append(dialog);
  $("help-form").addEventListener("submit", (e) => {
    e.preventDefault();
    askForHelp();
  });
  return dialog;
}

function openHelp(lead, list) {
  const dialog = helpDialog();
  $("help-lead").textContent = lead || "";
  const box = $("help-resources");
  clear(box);
  box.append(resourceList(list));
  $("help-form").hidden = !here() || isStaff();
  if (!dialog.open) dialog.showModal();
}

async function askForHelp() {
  const current = here();
  if (!current) return;
  const button = $("help-send");
  button.disabled = true;
  const text = $("help-text").value.trim();
  const ack = await request("support:request", text ? { room: current.room.id, text } : { room: current.room.id });
  button.disabled = false;
  const status = $("help-status");
  if (!ack.ok) {
    status.textContent = "Your request could not be sent (" + ack.error.message + "). The people below can help right now.";
    return;
  }
  $("help-text").value = "";
  const box = $("help-resources");
  clear(box);
  box.append(resourceList(ack.resources));
  status.textContent =
    ack.staff_notified > 0
      ? "A facilitator in this room has been told and can reply to you here, privately."
      : "No facilitator is in this room right now. Your request went to the admins, who will see it as soon as they can. " +
        "If you need someone now, please use one of the services below.";
  status.dataset.reached = ack.staff_notified > 0 ? "yes" : "no";
}

function onResources(p) {
  if (!p || !isHere(p.room)) return;
  openHelp(
    "It sounds like things are really hard right now. You don't have to go through this alone: " +
      "these people are there to listen, and you can also ask a facilitator here privately.",
    p.resources,
  );
}

function onReply(p) {
  if (!p) return;
  helpDialog();
  const by = p.by && p.by.pseudonym ? p.by.pseudonym : "A facilitator";
  $("help-replies").append(
    el(
      "div",
      { class: "support-reply", dataset: { testid: "support-reply" } },
      el("div", { class: "message-meta" }, el("strong", { text: by }), el("span", { class: "hint", text: " to you only, " + formatTime(p.ts) })),
      el("p", { class: "text", text: p.text }),
    ),
  );
  openHelp("A facilitator replied to you. Only you can see this.", null);
}

/* ---------- guidelines ---------- */

function guidelinesDialog() {
  let dialog = $("guidelines-dialog");
  if (dialog) return dialog;
  dialog = el(
    "dialog",
    { id: "guidelines-dialog", class: "dialog", "aria-labelledby": "guidelines-title", dataset: { testid: "guidelines-dialog" } },
    el("div", { class: "dialog-head" }, el("h2", { id: "guidelines-title", text: "Room guidelines" }), exitButton()),
    el("div", { id: "guidelines-text", class: "guidelines-text", dataset: { testid: "guidelines-text" } }),
    el(
      "div",
      { class: "dialog-buttons" },
      el("button", { type: "button", id: "guidelines-decline", text: "Not now" }),
      el("button", { type: "button", id: "guidelines-accept", class: "button-primary", dataset: { testid: "guidelines-accept" }, text: "I accept, join" }),
    ),
  );
  document.body.append(dialog);
  return dialog;
}

function showGuidelines(text, { accept, decline }) {
  const dialog = guidelinesDialog();
  $("guidelines-text").textContent = text;
  const acceptBtn = $("guidelines-accept");
  const declineBtn = $("guidelines-decline");
  acceptBtn.hidden = !accept;
  declineBtn.textContent = accept ? "Not now" : "Close";
  acceptBtn.onclick = () => {
    dialog.close();
    if (accept) accept();
  };
  declineBtn.onclick = () => {
    dialog.close();
    if (decline) decline();
  };
  if (!dialog.open) dialog.showModal();
}

function onGuidelinesNeeded({ room, error }) {
  showGuidelines(error.guidelines || "", {
    accept: () => emit("join:accept", { room, version: error.version }),
    decline: () => {
      emit("join:cancel", room);
      notify("You can join this room whenever you're ready to accept its guidelines.", "info");
    },
  });
}

/* ---------- the room head: help, guidelines, unattended banner ---------- */

function roomTools() {
  let tools = $("safety-tools");
  if (tools) return tools;
  tools = el(
    "div",
    { id: "safety-tools", class: "safety-tools" },
    el("button", {
      type: "button",
      id: "need-help",
      class: "button-help",
      dataset: { testid: "need-help" },
      text: "Need help?",
      on: { click: () => openHelp("", null) },
    }),
    el("button", {
      type: "button",
      id: "show-guidelines",
      class: "button-quiet",
      dataset: { testid: "show-guidelines" },
      text: "Guidelines",
      on: {
        click: () => {
          const current = here();
          if (current) showGuidelines(current.room.guidelines || "", {});
        },
      },
    }),
  );
  tools.append(
    el("button", {
      type: "button",
      id: "edit-guidelines",
      class: "button-quiet",
      dataset: { testid: "edit-guidelines" },
      text: "Edit guidelines",
      on: { click: editGuidelines },
    }),
  );
  const banner = el(
    "div",
    { id: "unattended-banner", class: "unattended-banner", role: "status", dataset: { testid: "unattended-banner" }, hidden: true },
    el("span", { id: "unattended-text" }),
    " ",
    el("button", { type: "button", class: "button-small", text: "Help and resources", on: { click: () => openHelp("", null) } }),
  );
  // A row of its own under the room's head, then the banner: the head keeps its own layout.
  const head = document.querySelector("#room-view .room-head");
  if (head) head.after(tools, banner);
  else $("room-view").prepend(tools, banner);
  return tools;
}

/* Staff edit the room's guidelines from the room itself (the admin page has the same). */
function editGuidelines() {
  const current = here();
  const staff = staffSession();
  if (!current || !staff) return;
  let dialog = $("edit-guidelines-dialog");
  if (!dialog) {
    dialog = el(
      "dialog",
      { id: "edit-guidelines-dialog", class: "dialog", "aria-labelledby": "edit-guidelines-title" },
      el("h2", { id: "edit-guidelines-title", text: "Room guidelines" }),
      el("p", { class: "hint", text: "Shown before a first join; a change asks everyone to accept again on their next join." }),
      el("textarea", { id: "edit-guidelines-text", rows: "8", maxlength: "4000", dataset: { testid: "edit-guidelines-text" } }),
      el(
        "div",
        { class: "dialog-buttons" },
        el("button", { type: "button", id: "edit-guidelines-cancel", text: "Cancel", on: { click: () => dialog.close() } }),
        el("button", { type: "button", id: "edit-guidelines-save", class: "button-primary", dataset: { testid: "edit-guidelines-save" }, text: "Save" }),
      ),
    );
    document.body.append(dialog);
  }
  $("edit-guidelines-text").value = current.room.guidelines || "";
  $("edit-guidelines-save").onclick = async () => {
    const room = here();
    if (!room) return dialog.close();
    const res = await api("PATCH", "/api/rooms/" + encodeURIComponent(room.room.id), {
      token: staff.token,
      body: { guidelines: $("edit-guidelines-text").value.trim() },
    });
    if (!res.ok) {
      notify("Couldn't save the guidelines: " + res.error.message, "error");
      return;
    }
    dialog.close();
    notify("Guidelines saved (version " + res.data.guidelines_version + ").", "success");
  };
  dialog.showModal();
}

function renderRoomSafety() {
  roomTools();
  const current = here();
  $("show-guidelines").hidden = !current || !current.room.guidelines;
  $("edit-guidelines").hidden = !current || !isStaff();
  const banner = $("unattended-banner");
  const unattended = !!current && current.room.attended === false;
  banner.hidden = !unattended;
  if (unattended) {
    const mode = current.room.unattended;
    let text = "No facilitator is in this room right now.";
    if (mode === "slow" && !isStaff()) text += " Messages are slowed down until one returns.";
    if (mode === "read_only" && !isStaff()) text += " The room is read-only until one returns.";
    $("unattended-text").textContent = text;
  }
}

/* ---------- contact details ---------- */

const CONTACT_PATTERNS = [
  ["an email address", /[^\s@<>()]+@[^\s@<>()]+\.[a-z]{2,}/i],
  ["a phone number", null], // see looksLikePhone
  ["a link", /\bhttps?:\/\/|\bwww\.\S+|(?<![@\w.-])[a-z0-9-]+\.(?:com|org|net|io|me|co|uk|de|fr|es|app|dev|info|ly|gg|tv|link)\b/i],
  ["an @handle", /(?:^|\s)@[a-z0-9_.]{2,}/i],
  [
    "a street address",
    /\b\d{1,5}[a-z]?,?\s+(?:[a-zà-ÿ'-]+\s+){0,3}(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|close|crescent|terrace|place|pl)\b|\b(?:calle|avenida|av\.|plaza|rue|avenue|boulevard|chemin)\s+[a-zà-ÿ'-]+.{0,30}?\d{1,5}\b|\b[a-zà-ÿß-]+(?:straße|strasse|str\.|weg|gasse|platz|allee)\s*\d{1,4}\b/i,
  ],
];

const PHONE = /\+?\d(?:[\s().-]*\d){6,}/g;
const DATE = /^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$/; // 12.05.2024, 2024-05-12: not a phone number

function looksLikePhone(text) {
  for (const match of text.matchAll(PHONE)) {
    const before = match.index > 0 ? text[match.index - 1] : "";
    if (/\w/.test(before)) continue; // inside a word or a longer token
    if (!DATE.test(match[0].trim())) return true;
  }
  return false;
}

export function contactKinds(text) {
  return CONTACT_PATTERNS.filter(([kind, re]) => (re ? re.test(text) : kind === "a phone number" && looksLikePhone(text))).map(
    ([kind]) => kind,
  );
}

function confirmContact(kinds) {
  return new Promise((resolve) => {
    let dialog = $("contact-dialog");
    if (!dialog) {
      dialog = el(
        "dialog",
        { id: "contact-dialog", class: "dialog", "aria-labelledby": "contact-title", dataset: { testid: "contact-warning" } },
        el("div", { class: "dialog-head" }, el("h2", { id: "contact-title", text: "This might identify you" }), exitButton()),
        el("p", { id: "contact-kinds" }),
        el("p", { class: "hint", text: "Anyone in the room can read it, and once sent it can't be unseen." }),
        el(
          "div",
          { class: "dialog-buttons" },
          el("button", { type: "button", id: "contact-edit", class: "button-primary", dataset: { testid: "contact-edit" }, text: "Edit" }),
          el("button", { type: "button", id: "contact-send", dataset: { testid: "contact-send" }, text: "Send anyway" }),
        ),
      );
      document.body.append(dialog);
    }
    $("contact-kinds").textContent = "Your message looks like it contains " + kinds.join(", ") + ".";
    const done = (ok) => {
      dialog.close();
      resolve(ok);
    };
    $("contact-edit").onclick = () => done(false);
    $("contact-send").onclick = () => done(true);
    dialog.oncancel = (e) => {
      e.preventDefault();
      done(false);
    };
    dialog.showModal();
  });
}

async function checkContact(text) {
  if (isStaff()) return true;
  const kinds = contactKinds(text);
  if (!kinds.length) return true;
  const ok = await confirmContact(kinds);
  if (!ok) $("composer").focus();
  return ok;
}

/* ---------- staff: alerts ---------- */

const KIND_LABEL = { crisis: "Crisis signal", request: "Help request", returning: "Returning member" };

function alertsPanel() {
  let panel = $("alerts-panel");
  if (panel) return panel;
  panel = el(
    "section",
    { id: "alerts-panel", class: "panel alerts-panel", "aria-labelledby": "alerts-title", dataset: { testid: "alerts" } },
    el("h2", { id: "alerts-title", text: "Alerts" }),
    el("p", { class: "hint", text: "Only staff see these. Replies go to that person alone." }),
    el("ol", { id: "alerts-list", class: "alerts-list" }),
  );
  // Above the chat layout, full width: it must not squeeze the room's own columns.
  const chat = $("chat");
  if (chat) chat.before(panel);
  else document.body.prepend(panel);
  return panel;
}

function contextFor(alert) {
  if (!alert.message_id) return null;
  const at = recent.findIndex((m) => m.id === alert.message_id);
  if (at < 0) return null;
  const items = recent.slice(Math.max(0, at - CONTEXT_BEFORE), at + 1).filter((m) => m.room === alert.room);
  return el(
    "ol",
    { class: "alert-context" },
    ...items.map((m) =>
      el(
        "li",
        { class: m.id === alert.message_id ? "alert-message" : "" },
        el("strong", { text: (m.author && m.author.pseudonym) || "someone" }),
        ": ",
        el("span", { text: m.text }),
      ),
    ),
  );
}

/* The alert can come before the message itself (messages reach other processes through the
 * room's feed): put a placeholder, filled when the message is shown. */
function contextLater(alert) {
  if (!alert.message_id) return null;
  const slot = el("div", { class: "alert-context-slot" });
  awaitingContext.set(alert.message_id, { alert, slot });
  return slot;
}

function fillContext(msg) {
  const waiting = awaitingContext.get(msg.id);
  if (!waiting) return;
  awaitingContext.delete(msg.id);
  const context = contextFor(waiting.alert);
  if (context) waiting.slot.replaceWith(context);
}

function onAlert(alert) {
  if (!alert || !isStaff()) return;
  alertsPanel();
  const who = (alert.member && alert.member.pseudonym) || "A member";
  const replyBox = el("textarea", { rows: "2", maxlength: "500", "aria-label": "Private reply to " + who, dataset: { testid: "alert-reply-text" } });
  const status = el("p", { class: "hint", role: "status" });
  const canReply = alert.kind !== "returning" && alert.member;
  const item = el(
    "li",
    { class: "alert alert-" + alert.kind + (alert.kind === "crisis" ? " urgent" : ""), dataset: { testid: "alert", kind: alert.kind, alertId: alert.id } },
    el(
      "div",
      { class: "message-meta" },
      el("span", { class: "badge" + (alert.kind === "crisis" ? " badge-urgent" : ""), text: KIND_LABEL[alert.kind] || alert.kind }),
      " ",
      el("strong", { text: who }),
      el("span", { class: "hint", text: " in " + alert.room + ", " + formatTime(alert.ts) }),
    ),
    alert.text ? el("p", { class: "text", text: "“" + alert.text + "”" }) : null,
    contextFor(alert) || contextLater(alert),
    canReply
      ? el(
          "form",
          {
            class: "alert-reply",
            on: {
              submit: async (e) => {
                e.preventDefault();
                const text = replyBox.value.trim();
                if (!text) return;
                const ack = await request("support:reply", { room: alert.room, member: alert.member.id, text });
                if (ack.ok) {
                  replyBox.value = "";
                  status.textContent = "Sent privately to " + who + ".";
                } else {
                  status.textContent = "Not sent: " + ack.error.message;
                }
              },
            },
          },
          replyBox,
          el("button", { type: "submit", class: "button-primary button-small", dataset: { testid: "alert-reply-send" }, text: "Reply privately" }),
        )
      : null,
    status,
  );
  $("alerts-list").prepend(item);
  notify(KIND_LABEL[alert.kind] + " from " + who + " in " + alert.room + ". See Alerts.", alert.kind === "crisis" ? "error" : "warn");
}

/* ---------- wiring ---------- */

async function loadConfig() {
  const res = await api("GET", "/api/safety");
  if (res.ok && res.data) {
    if (typeof res.data.quick_exit_url === "string") exitUrl = res.data.quick_exit_url;
    if (Array.isArray(res.data.resources)) resources = res.data.resources;
  }
}

function init() {
  buildExit();
  loadConfig();
  addSendCheck(checkContact);
  on("join:guidelines", onGuidelinesNeeded);
  on("room:entered", renderRoomSafety);
  on("room:left", () => {
    const banner = $("unattended-banner");
    if (banner) banner.hidden = true;
  });
  on("message:rendered", ({ msg }) => {
    recent.push(msg);
    if (recent.length > KEPT_MESSAGES) recent.shift();
    fillContext(msg);
  });
  onServer("room:updated", (room) => {
    if (room && isHere(room.id)) window.setTimeout(renderRoomSafety); // after the room module applied it
  });
  onServer("support:resources", onResources);
  onServer("support:reply", onReply);
  onServer("mod:alert", onAlert);
}

init();
