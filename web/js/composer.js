/* The composer: what may be sent now, and sending it. */

import { emit, on } from "./bus.js";
import { noteServerTime } from "./clock.js";
import { isConnected, request } from "./connection.js";
import { $ } from "./dom.js";
import { describeError, mutedText } from "./errors.js";
import { renderRoomHeader } from "./header.js";
import { isStaff } from "./identity.js";
import { randomId } from "./net.js";
import { notify } from "./notice.js";
import { renderMessage, scrollToBottom } from "./messages.js";
import { here, isHere, myMute, setMyMute } from "./room-state.js";

export const MAX_TEXT = 2000;
let sending = false;
const sendChecks = []; // async (text) => true to send; a feature module may ask the person first

/* Ask before a message goes out (js/safety.js warns about contact details). */
export function addSendCheck(check) {
  sendChecks.push(check);
}

export function updateComposer() {
  const current = here();
  const mute = myMute();
  const composer = $("composer");
  let reason = "";
  if (current) {
    if (!isConnected()) reason = "Reconnecting…";
    else if (mute) reason = mutedText(mute.until);
    else if (current.room.locked && !isStaff()) reason = "This room is locked right now. You can read, but new messages are paused.";
  }
  const blocked = !current || reason !== "";
  composer.disabled = !!current && (!!mute || (current.room.locked && !isStaff()));
  $("send-button").disabled = blocked || sending;
  const state = $("composer-state");
  if (state.textContent !== reason) state.textContent = reason;
  $("composer-form").classList.toggle("blocked", blocked);
}

async function sendMessage() {
  const current = here();
  if (!current || sending) return;
  const composer = $("composer");
  const text = composer.value;
  if (!text.trim()) return;
  if ([...text.trim()].length > MAX_TEXT) {
    notify("That message is too long: messages are at most " + MAX_TEXT + " characters.", "error");
    return;
  }
  for (const check of sendChecks) {
    if (!(await check(text))) return;
  }
  if (!isHere(current.room.id)) return; // the room changed while the person was asked
  const room = current.room.id;
  sending = true;
  updateComposer();
  const ack = await request("message:send", { room, text, client_id: randomId() });
  sending = false;
  if (ack.ok) {
    if (composer.value === text) composer.value = "";
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
    }
    notify(describeError(e, "send"), e.code === "muted" || e.code === "room_locked" ? "warn" : "error");
  }
  updateComposer();
  if (!composer.disabled) composer.focus();
}

export function wireComposer() {
  $("composer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sendMessage();
  });
  $("composer").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      sendMessage();
    }
  });
  on("connected", updateComposer);
  on("disconnected", updateComposer);
}
