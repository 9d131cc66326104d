/* The composer: what may be sent now, the draft (its length, a reply), and sending it. */

import { emit, on } from "./bus.js";
import { noteServerTime } from "./clock.js";
import { isConnected, request } from "./connection.js";
import { $ } from "./dom.js";
import { describeError, mutedText } from "./errors.js";
import { plural } from "./format.js";
import { renderRoomHeader } from "./header.js";
import { isStaff } from "./identity.js";
import { messageById, onReply, renderMessage, scrollToBottom } from "./messages.js";
import { randomId } from "./net.js";
import { clearNotice, notify } from "./notice.js";
import { here, isHere, myMute, setMyMute } from "./room-state.js";
import { sentMessage, typed } from "./typing.js";

export const MAX_TEXT = 2000;
const COUNT_FROM = 1800; // the counter shows from here on
const MAX_HEIGHT_PX = 160;

let sending = false;
let replyTo = null; // the message being answered, or null
const sendChecks = []; // async (text) => true to send; a feature module may ask the person first

/* Ask before a message goes out (js/safety.js warns about contact details). */
export function addSendCheck(check) {
  sendChecks.push(check);
}

function length(text) {
  return [...text.trim()].length;
}

export function updateComposer() {
  const current = here();
  const mute = myMute();
  const composer = $("composer");
  const n = length(composer.value);
  let reason = "";
  let blockedByRoom = false;
  if (current) {
    if (!isConnected()) reason = "Reconnecting…";
    else if (mute) {
      reason = mutedText(mute.until);
      blockedByRoom = true;
    } else if (current.room.locked && !isStaff()) {
      reason = "This room is locked right now. You can read, but new messages are paused.";
      blockedByRoom = true;
    } else if (n > MAX_TEXT) {
      reason = "That's " + plural(n - MAX_TEXT, "character") + " too long: messages are at most " + MAX_TEXT + " characters.";
    }
  }
  const blocked = !current || reason !== "";
  composer.disabled = !!current && blockedByRoom;
  $("send-button").disabled = blocked || sending;
  const state = $("composer-state");
  if (state.textContent !== reason) state.textContent = reason;
  $("composer-form").classList.toggle("blocked", blocked);
  const count = $("char-count");
  count.hidden = n < COUNT_FROM;
  count.textContent = n + " / " + MAX_TEXT;
  count.classList.toggle("over", n > MAX_TEXT);
}

function grow() {
  const composer = $("composer");
  composer.style.height = "auto";
  composer.style.height = Math.min(composer.scrollHeight + 2, MAX_HEIGHT_PX) + "px";
}

// ---------------------------------------------------------------- replies

function startReply(msg) {
  replyTo = msg;
  $("reply-author").textContent = msg.author ? msg.author.pseudonym : "someone";
  $("reply-text").textContent = [...msg.text].slice(0, 140).join("");
  $("reply-preview").hidden = false;
  const composer = $("composer");
  if (!composer.disabled) composer.focus();
}

export function cancelReply() {
  replyTo = null;
  $("reply-preview").hidden = true;
}

// ---------------------------------------------------------------- sending

async function sendMessage() {
  const current = here();
  if (!current || sending) return;
  const composer = $("composer");
  const text = composer.value;
  if (!text.trim()) return;
  if (length(text) > MAX_TEXT) {
    updateComposer();
    return;
  }
  for (const check of sendChecks) {
    if (!(await check(text))) return;
  }
  if (!isHere(current.room.id)) return; // the room changed while the person was asked
  const room = current.room.id;
  const payload = { room, text, client_id: randomId() };
  if (replyTo && messageById(replyTo.id)) payload.reply_to = replyTo.id;
  sending = true;
  updateComposer();
  const ack = await request("message:send", payload);
  sending = false;
  if (ack.ok) {
    clearNotice("send");
    sentMessage();
    if (composer.value === text) {
      composer.value = "";
      grow();
      cancelReply();
    }
    if (ack.message) {
      noteServerTime(ack.message.ts);
      renderMessage(ack.message);
      scrollToBottom(true);
    }
  } else {
    const e = ack.error;
    const now = here();
    if (e.code === "muted") {
      setMyMute({ until: e.until === undefined ? null : e.until });
    } else if (e.code === "room_locked" && now) {
      now.room.locked = true;
      renderRoomHeader();
    } else if (e.code === "not_member" && now) {
      emit("rejoin", room);
    } else if (e.code === "not_found" && payload.reply_to) {
      cancelReply();
    }
    const text = e.code === "not_found" && payload.reply_to
      ? "The message you were answering is no longer available. Your words are still here: send them again without the reply."
      : describeError(e, "send");
    notify(text, e.code === "muted" || e.code === "room_locked" ? "warn" : "error", { cause: "send" });
  }
  updateComposer();
  if (!composer.disabled) composer.focus();
}

export function wireComposer() {
  $("composer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sendMessage();
  });
  const composer = $("composer");
  composer.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      sendMessage();
    } else if (e.key === "Escape" && replyTo) {
      e.preventDefault();
      cancelReply();
    }
  });
  composer.addEventListener("input", () => {
    grow();
    updateComposer();
    if (composer.value.trim()) typed();
  });
  $("reply-cancel").addEventListener("click", () => {
    cancelReply();
    composer.focus();
  });
  onReply(startReply);
  on("connected", updateComposer);
  on("disconnected", updateComposer);
  on("room:left", () => {
    cancelReply();
    updateComposer();
  });
}
