/* The message list of the room on screen: rendering, ordering, expiry, deletion. */

import { emit } from "./bus.js";
import { noteServerTime, serverNow } from "./clock.js";
import { onServer, request } from "./connection.js";
import { $, clear, el } from "./dom.js";
import { describeError } from "./errors.js";
import { messageGone, openFlagDialog } from "./flag.js";
import { formatDateTime, formatTime } from "./format.js";
import { isStaff } from "./identity.js";
import { notify } from "./notice.js";
import { here, isHere } from "./room-state.js";

const shown = new Map(); // message id -> {msg, node}

export function clearMessages() {
  shown.clear();
  clear($("messages"));
  $("messages-empty").hidden = false;
}

function nearBottom() {
  const list = $("messages");
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

/* force: scroll even when the reader has scrolled up. */
export function scrollToBottom(force) {
  const list = $("messages");
  if (force || nearBottom()) list.scrollTop = list.scrollHeight;
}

function onMessageNew(msg) {
  if (!msg || typeof msg !== "object") return;
  noteServerTime(msg.ts);
  if (!isHere(msg.room)) return;
  const stick = nearBottom();
  renderMessage(msg);
  if (stick) scrollToBottom(true);
}

export function renderMessage(msg) {
  const current = here();
  if (!current || !msg || shown.has(msg.id)) return;
  if (typeof msg.expires_at === "number" && serverNow() >= msg.expires_at) return;
  const author = msg.author || { id: "", pseudonym: "someone", role: "peer" };
  const mine = current.you && author.id === current.you.id;
  const authorIsStaff = author.role === "facilitator" || author.role === "admin";
  const actions = el(
    "div",
    { class: "message-actions" },
    mine ? null : el("button", {
      type: "button",
      class: "button-small button-quiet",
      dataset: { action: "flag" },
      "aria-label": "Flag this message from " + author.pseudonym,
      text: "Flag",
      on: { click: () => openFlagDialog(msg) },
    }),
    isStaff()
      ? el("button", {
          type: "button",
          class: "button-small button-danger",
          dataset: { action: "delete" },
          "aria-label": "Delete this message from " + author.pseudonym,
          text: "Delete",
          on: { click: () => deleteMessage(msg) },
        })
      : null,
  );
  const node = el(
    "li",
    {
      class: "message" + (mine ? " mine" : "") + (authorIsStaff ? " from-staff" : ""),
      dataset: { messageId: msg.id, authorId: author.id, testid: "message" },
    },
    el(
      "div",
      { class: "message-meta" },
      el("span", { class: "author", text: author.pseudonym }),
      authorIsStaff ? el("span", { class: "badge", text: author.role }) : null,
      mine ? el("span", { class: "you-tag", text: "(you)" }) : null,
      el("time", { class: "time", datetime: new Date(msg.ts).toISOString(), title: formatDateTime(msg.ts), text: formatTime(msg.ts) }),
    ),
    el("p", { class: "text", text: msg.text }),
    actions,
  );
  // Keep the view in time order even if an event arrives late.
  const list = $("messages");
  let before = null;
  for (let child = list.lastElementChild; child; child = child.previousElementSibling) {
    const entry = shown.get(child.dataset.messageId);
    if (entry && entry.msg.ts > msg.ts) before = child;
    else break;
  }
  list.insertBefore(node, before);
  shown.set(msg.id, { msg, node });
  $("messages-empty").hidden = true;
  emit("message:rendered", { msg, node });
}

export function removeMessage(id) {
  const entry = shown.get(id);
  if (!entry) return;
  entry.node.remove();
  shown.delete(id);
  $("messages-empty").hidden = shown.size > 0;
  messageGone(id);
}

/* Messages leave the view when they expire (called every second). */
export function expireMessages(now) {
  for (const [id, entry] of shown) {
    if (typeof entry.msg.expires_at === "number" && now >= entry.msg.expires_at) removeMessage(id);
  }
}

async function deleteMessage(msg) {
  if (!here()) return;
  const ack = await request("mod:delete", { room: msg.room, message_id: msg.id });
  if (!ack.ok) return notify(describeError(ack.error, "mod"), "error");
  removeMessage(msg.id);
  notify("Message deleted.", "success");
}

onServer("message:new", onMessageNew);
onServer("message:deleted", (p) => {
  if (p && isHere(p.room)) removeMessage(p.message_id);
});
