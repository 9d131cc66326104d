/* The message list of the room on screen: compact messages grouped by author and time, day
 * separators, replies, reactions, a menu of actions per message (hover, focus, long-press),
 * expiry, deletion, the "new messages" pill and polite announcements of what others write.
 *
 * Feature modules add actions to every message's menu with addMessageAction(). */

import { emit, on } from "./bus.js";
import { noteServerTime, serverNow } from "./clock.js";
import { onServer, request } from "./connection.js";
import { confirmDialog } from "./dialog.js";
import { $, clear, el } from "./dom.js";
import { describeError } from "./errors.js";
import { messageGone, openFlagDialog } from "./flag.js";
import { formatDateTime, formatTime, timeLeft } from "./format.js";
import { isStaff } from "./identity.js";
import { closeMenu, openMenu } from "./menu.js";
import { clearNotice, notify } from "./notice.js";
import { REACTIONS, reactionChips } from "./reactions.js";
import { here, isHere } from "./room-state.js";
import { isStaffRole } from "./session.js";

const GROUP_MS = 5 * 60 * 1000; // messages closer than this, by one author, are grouped
const LONG_PRESS_MS = 450;

const shown = new Map(); // message id -> {msg, node, mine: Set(reaction kinds I gave)}
const quotes = new Map(); // message id -> Set(quote nodes that point at it)
const extraActions = []; // from addMessageAction()
let unseen = 0; // messages from others not yet scrolled into view
let replyHandler = null;
// message:new for a room whose join is in flight: the server delivers the room's messages from
// just before it reads the history, so one can arrive ahead of the join's answer (docs/PROTOCOL.md).
let held = { room: null, messages: [] };
const HELD_MAX = 200;

/* Keep the messages of roomId that arrive before its join is answered. */
export function holdMessagesFor(roomId) {
  held = { room: roomId, messages: [] };
}

/* The messages held for roomId (oldest first), and stop holding. */
export function releaseHeld(roomId) {
  const messages = held.room === roomId ? held.messages : [];
  held = { room: null, messages: [] };
  return messages;
}

/* A feature's action in every message's menu: {action, label, run(msg), visible?(msg), danger?}. */
export function addMessageAction(action) {
  extraActions.push(action);
}

/* The composer's reply feature registers here (composer.js owns the draft). */
export function onReply(fn) {
  replyHandler = fn;
}

export function messageById(id) {
  const entry = shown.get(id);
  return entry ? entry.msg : null;
}

export function unseenCount() {
  return unseen;
}

// ---------------------------------------------------------------- scrolling

function scroller() {
  return $("messages");
}

function nearBottom() {
  const list = scroller();
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

/* force: scroll even when the reader has scrolled up. */
export function scrollToBottom(force) {
  const list = scroller();
  if (force || nearBottom()) {
    list.scrollTop = list.scrollHeight;
    stuck = true;
    markSeen();
  }
}

function roomVisible() {
  const view = $("room-view");
  return !document.hidden && !view.hidden && view.offsetParent !== null;
}

function markSeen() {
  if (unseen === 0 || !roomVisible()) return;
  unseen = 0;
  renderPill();
  emit("unread", 0);
}

function renderPill() {
  const pill = $("new-messages-pill");
  const show = unseen > 0 && !nearBottom();
  pill.hidden = !show;
  if (show) pill.textContent = unseen === 1 ? "1 new message ↓" : unseen + " new messages ↓";
}

// ---------------------------------------------------------------- rendering

export function clearMessages() {
  closeMenu({ focusTrigger: false });
  shown.clear();
  quotes.clear();
  clear($("message-list"));
  $("messages-empty").hidden = false;
  unseen = 0;
  renderPill();
  emit("unread", 0);
}

function dayKey(ms) {
  const d = new Date(ms);
  return d.getFullYear() + "-" + (d.getMonth() + 1) + "-" + d.getDate();
}

function dayLabel(ms) {
  const key = dayKey(ms);
  const now = Date.now();
  if (key === dayKey(now)) return "Today";
  if (key === dayKey(now - 86400000)) return "Yesterday";
  try {
    return new Date(ms).toLocaleDateString([], { weekday: "long", month: "long", day: "numeric" });
  } catch (_e) {
    return key;
  }
}

function authorOf(msg) {
  return msg.author && typeof msg.author === "object" ? msg.author : { id: "", pseudonym: "someone", role: "peer" };
}

function quoteNode(msg) {
  const target = msg.reply_to ? shown.get(msg.reply_to) : null;
  let node;
  if (!target) {
    node = el("p", { class: "quote gone", text: "Reply to a message that is no longer available" });
  } else {
    const original = target.msg;
    const excerpt = [...original.text].slice(0, 140).join("");
    node = el(
      "button",
      {
        type: "button",
        class: "quote",
        dataset: { replyTo: original.id },
        on: { click: () => focusMessage(original.id) },
      },
      "Reply to ",
      el("span", { class: "quote-author", dir: "auto", text: authorOf(original).pseudonym }),
      ": ",
      el("span", { class: "quote-text", dir: "auto", text: excerpt }),
    );
  }
  if (msg.reply_to) {
    if (!quotes.has(msg.reply_to)) quotes.set(msg.reply_to, new Set());
    quotes.get(msg.reply_to).add(node);
  }
  return node;
}

export function renderMessage(msg, { live = false } = {}) {
  const current = here();
  if (!current || !msg || typeof msg.id !== "string" || shown.has(msg.id)) return;
  if (typeof msg.expires_at === "number" && serverNow() >= msg.expires_at) return;
  const author = authorOf(msg);
  const mine = !!current.you && author.id === current.you.id;
  const authorIsStaff = isStaffRole(author.role);
  const entry = { msg, node: null, mine: new Set(Array.isArray(msg.reacted) ? msg.reacted : []) };
  const more = el("button", {
    type: "button",
    tabindex: "-1",
    dataset: { action: "more" },
    "aria-haspopup": "menu",
    "aria-expanded": "false",
    text: "More",
    on: { click: (e) => openMessageMenu(entry, e.currentTarget) },
  });
  const node = el(
    "li",
    {
      class: "message" + (mine ? " mine" : "") + (authorIsStaff ? " from-staff" : ""),
      tabindex: "-1",
      dataset: { messageId: msg.id, authorId: author.id, testid: "message" },
    },
    el(
      "div",
      { class: "message-head" },
      el("span", { class: "author", dir: "auto", title: author.pseudonym, text: author.pseudonym }),
      authorIsStaff ? el("span", { class: "badge", text: author.role }) : null,
      mine ? el("span", { class: "you-tag", text: "(you)" }) : null,
      el("time", { class: "time", datetime: new Date(msg.ts).toISOString(), title: formatDateTime(msg.ts), text: formatTime(msg.ts) }),
    ),
    msg.reply_to ? quoteNode(msg) : null,
    el("p", { class: "text", dir: "auto", text: msg.text }),
    el("ul", { class: "reactions", "aria-label": "Reactions" }),
    el(
      "div",
      { class: "message-tools" },
      el("span", { class: "expires" }),
      el("button", {
        type: "button",
        tabindex: "-1",
        dataset: { action: "react" },
        "aria-haspopup": "menu",
        "aria-expanded": "false",
        text: "React",
        on: { click: (e) => openReactMenu(entry, e.currentTarget) },
      }),
      el("button", { type: "button", tabindex: "-1", dataset: { action: "reply" }, text: "Reply", on: { click: () => reply(entry) } }),
      more,
    ),
  );
  entry.node = node;
  wireMessageNode(entry, more);
  renderReactions(entry);
  // Keep the view in time order even if an event arrives late.
  const list = $("message-list");
  let before = null;
  for (let child = list.lastElementChild; child; child = child.previousElementSibling) {
    const other = shown.get(child.dataset.messageId);
    if (other && other.msg.ts > msg.ts) before = child;
    else if (other) break;
  }
  if (before && before.previousElementSibling && before.previousElementSibling.classList.contains("day-separator")) {
    before = before.previousElementSibling;
  }
  list.insertBefore(node, before);
  shown.set(msg.id, entry);
  $("messages-empty").hidden = true;
  relayout();
  refreshQuotes(msg.id);
  if (live && !mine) {
    announce(author.pseudonym + ": " + [...msg.text].slice(0, 300).join(""));
    if (!nearBottom() || !roomVisible()) {
      unseen += 1;
      renderPill();
      emit("unread", unseen);
    }
  }
  emit("message:rendered", { msg, node });
}

/* Day separators before the first message of each day; grouping of close messages by one author. */
function relayout() {
  const list = $("message-list");
  const keep = new Set();
  let prevDay = null;
  let prev = null;
  let first = null;
  for (const node of [...list.children]) {
    if (node.classList.contains("day-separator")) continue;
    const entry = shown.get(node.dataset.messageId);
    if (!entry) continue;
    const msg = entry.msg;
    const day = dayKey(msg.ts);
    if (day !== prevDay) {
      let sep = node.previousElementSibling;
      if (!(sep && sep.classList.contains("day-separator") && sep.dataset.day === day)) {
        sep = el("li", { class: "day-separator", dataset: { day } });
        list.insertBefore(sep, node);
      }
      sep.textContent = dayLabel(msg.ts);
      keep.add(sep);
    }
    const continued = !!prev && day === prevDay && authorOf(prev).id === authorOf(msg).id &&
      msg.ts - prev.ts < GROUP_MS && !msg.reply_to;
    node.classList.toggle("continued", continued);
    if (!first) first = node;
    prevDay = day;
    prev = msg;
  }
  for (const sep of [...list.querySelectorAll(".day-separator")]) if (!keep.has(sep)) sep.remove();
  // Roving focus: one message is in the tab order (the last one unless another has focus).
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest(".message");
  if (!focused || !list.contains(focused)) {
    for (const n of list.querySelectorAll('.message[tabindex="0"]')) n.tabIndex = -1;
    const last = list.querySelector(".message:last-of-type") || lastMessageNode();
    if (last) last.tabIndex = 0;
  }
}

function lastMessageNode() {
  const nodes = $("message-list").querySelectorAll(".message");
  return nodes.length ? nodes[nodes.length - 1] : null;
}

function refreshQuotes(id) {
  const nodes = quotes.get(id);
  if (!nodes) return;
  for (const q of [...nodes]) {
    const owner = q.closest(".message");
    const entry = owner ? shown.get(owner.dataset.messageId) : null;
    nodes.delete(q);
    if (entry && q.isConnected) q.replaceWith(quoteNode(entry.msg));
  }
}

function renderReactions(entry) {
  const box = entry.node.querySelector(".reactions");
  clear(box);
  box.append(...reactionChips(entry.msg, entry.mine, (kind, onOff) => react(entry, kind, onOff)));
}

function announce(text) {
  const box = $("announcer");
  if (!box) return;
  box.textContent = "";
  box.appendChild(document.createTextNode(text));
}

// ---------------------------------------------------------------- focus, keys, long-press

function focusMessage(id) {
  const entry = shown.get(id);
  if (!entry) return;
  for (const n of $("message-list").querySelectorAll('.message[tabindex="0"]')) n.tabIndex = -1;
  entry.node.tabIndex = 0;
  entry.node.focus();
  entry.node.scrollIntoView({ block: "nearest" });
}

function wireMessageNode(entry, more) {
  const node = entry.node;
  node.addEventListener("focus", () => {
    for (const n of $("message-list").querySelectorAll('.message[tabindex="0"]')) if (n !== node) n.tabIndex = -1;
    node.tabIndex = 0;
  });
  const showExpiry = () => {
    const at = entry.msg.expires_at;
    node.querySelector(".expires").textContent =
      typeof at === "number" ? "Disappears in " + timeLeft(at, serverNow()) : "";
  };
  node.addEventListener("pointerenter", showExpiry);
  node.addEventListener("focusin", showExpiry);
  node.addEventListener("keydown", (e) => {
    if (e.target !== node) return;
    const siblings = [...$("message-list").querySelectorAll(".message")];
    const at = siblings.indexOf(node);
    let next = null;
    if (e.key === "ArrowDown") next = siblings[at + 1];
    else if (e.key === "ArrowUp") next = siblings[at - 1];
    else if (e.key === "Home") next = siblings[0];
    else if (e.key === "End") next = siblings[siblings.length - 1];
    else if (e.key === "Enter" || e.key === "ContextMenu" || (e.key === "F10" && e.shiftKey)) {
      e.preventDefault();
      openMessageMenu(entry, more);
      return;
    } else if (e.key === "Escape") {
      e.preventDefault();
      $("composer").focus();
      return;
    }
    if (next) {
      e.preventDefault();
      focusMessage(next.dataset.messageId);
    }
  });
  // Touch: a long press opens the menu (so does a right click or the context-menu key).
  let timer = null;
  let startX = 0;
  let startY = 0;
  const cancel = () => {
    window.clearTimeout(timer);
    timer = null;
  };
  node.addEventListener("pointerdown", (e) => {
    if (e.pointerType !== "touch" || e.target.closest("button, a")) return;
    startX = e.clientX;
    startY = e.clientY;
    cancel();
    timer = window.setTimeout(() => {
      timer = null;
      openMessageMenu(entry, more);
    }, LONG_PRESS_MS);
  });
  node.addEventListener("pointermove", (e) => {
    if (timer && Math.hypot(e.clientX - startX, e.clientY - startY) > 10) cancel();
  });
  node.addEventListener("pointerup", cancel);
  node.addEventListener("pointercancel", cancel);
  node.addEventListener("contextmenu", (e) => {
    if (e.target.closest("a")) return;
    e.preventDefault();
    openMessageMenu(entry, more);
  });
}

// ---------------------------------------------------------------- actions

function mineMsg(msg) {
  const current = here();
  return !!current && !!current.you && authorOf(msg).id === current.you.id;
}

function canDelete(msg) {
  const current = here();
  const mine = current && current.you && authorOf(msg).id === current.you.id;
  return mine || isStaff();
}

function reactionItems(entry) {
  return REACTIONS.map(([kind, label]) => ({
    label,
    action: "react-" + kind,
    checked: entry.mine.has(kind),
    run: () => react(entry, kind, !entry.mine.has(kind)),
  }));
}

function openMessageMenu(entry, trigger) {
  const msg = entry.msg;
  const author = authorOf(msg).pseudonym;
  const extra = extraActions
    .filter((a) => !a.visible || a.visible(msg))
    .map((a) => ({ label: a.label, action: a.action, danger: a.danger, run: () => a.run(msg) }));
  openMenu(
    trigger,
    [
      { label: "Reply", action: "reply", run: () => reply(entry) },
      { group: "React", items: reactionItems(entry) },
      { separator: true },
      ...extra,
      mineMsg(msg) ? null : { label: "Flag this message", action: "flag", run: () => openFlagDialog(msg) },
      canDelete(msg) ? { label: "Delete message", action: "delete", danger: true, run: () => deleteMessage(msg) } : null,
    ],
    { label: "Message from " + author, host: entry.node },
  );
}

function openReactMenu(entry, trigger) {
  openMenu(trigger, reactionItems(entry), { label: "React to the message from " + authorOf(entry.msg).pseudonym, host: entry.node });
}

function reply(entry) {
  if (replyHandler) replyHandler(entry.msg);
}

async function react(entry, kind, onOff) {
  const msg = entry.msg;
  const ack = await request("message:react", { room: msg.room, message_id: msg.id, reaction: kind, on: onOff });
  if (!ack.ok) {
    notify(describeError(ack.error, "react"), "error", { cause: "react" });
    return;
  }
  clearNotice("react");
  if (!shown.has(msg.id)) return;
  if (ack.reactions && typeof ack.reactions === "object") msg.reactions = ack.reactions;
  if (Array.isArray(ack.reacted)) entry.mine = new Set(ack.reacted);
  renderReactions(entry);
}

async function deleteMessage(msg) {
  const current = here();
  if (!current) return;
  const mine = current.you && authorOf(msg).id === current.you.id;
  const sure = await confirmDialog({
    title: mine ? "Delete your message?" : "Delete this message?",
    text: mine
      ? "It disappears for everyone in the room, and replies to it show that it is no longer available."
      : "It disappears for everyone in the room. Its author is not told who deleted it.",
    confirm: "Delete",
    danger: true,
  });
  if (!sure || !shown.has(msg.id)) return;
  const ack = mine
    ? await request("message:delete", { room: msg.room, message_id: msg.id })
    : await request("mod:delete", { room: msg.room, message_id: msg.id });
  if (!ack.ok) return notify(describeError(ack.error, "delete"), "error");
  removeMessage(msg.id);
  notify("Message deleted.", "success");
}

export function removeMessage(id) {
  const entry = shown.get(id);
  if (!entry) return;
  const hadFocus = entry.node.contains(document.activeElement);
  const neighbour = entry.node.nextElementSibling || entry.node.previousElementSibling;
  if (entry.node.classList.contains("menu-open")) closeMenu({ focusTrigger: false });
  entry.node.remove();
  shown.delete(id);
  $("messages-empty").hidden = shown.size > 0;
  relayout();
  refreshQuotes(id);
  messageGone(id);
  if (hadFocus) {
    const next = neighbour && neighbour.classList.contains("message") && neighbour.isConnected ? neighbour : lastMessageNode();
    if (next) focusMessage(next.dataset.messageId);
    else $("composer").focus();
  }
}

/* Messages leave the view when they expire (called every second). */
export function expireMessages(now) {
  for (const [id, entry] of shown) {
    if (typeof entry.msg.expires_at === "number" && now >= entry.msg.expires_at) removeMessage(id);
  }
}

function onMessageNew(msg) {
  if (!msg || typeof msg !== "object") return;
  noteServerTime(msg.ts);
  if (!isHere(msg.room)) {
    if (held.room === msg.room && held.messages.length < HELD_MAX) held.messages.push(msg);
    return;
  }
  const stick = nearBottom();
  renderMessage(msg, { live: true });
  if (stick) scrollToBottom(true);
  emit("message:new", msg);
}

let stuck = true; // the reader is at the latest message (kept there when the list's box changes)

export function wireMessages() {
  $("messages").addEventListener("scroll", () => {
    stuck = nearBottom();
    if (stuck) markSeen();
    else renderPill();
  });
  // Rows above or below the list come and go (a banner, a reply preview, the keyboard on a
  // phone) and messages grow (reactions): a reader at the latest message stays there.
  if (window.ResizeObserver) {
    const keep = new ResizeObserver(() => {
      if (stuck) scroller().scrollTop = scroller().scrollHeight;
    });
    keep.observe(scroller());
    keep.observe($("message-list")); // and when what is in it grows (reactions, a late quote)
  }
  $("new-messages-pill").addEventListener("click", () => {
    scrollToBottom(true);
    const last = lastMessageNode();
    if (last) focusMessage(last.dataset.messageId);
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && nearBottom()) markSeen();
  });
  on("room:shown", () => {
    if (nearBottom()) markSeen();
  });
}

onServer("message:new", onMessageNew);
onServer("message:deleted", (p) => {
  if (p && isHere(p.room)) removeMessage(p.message_id);
});
onServer("message:reacted", (p) => {
  if (!p || !isHere(p.room)) return;
  const entry = shown.get(p.message_id);
  if (!entry || !p.reactions || typeof p.reactions !== "object") return;
  entry.msg.reactions = p.reactions;
  renderReactions(entry);
});
