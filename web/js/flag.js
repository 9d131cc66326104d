/* The "flag this message" dialog. */

import { closeDialog, openDialog } from "./dialog.js";
import { $ } from "./dom.js";
import { request } from "./connection.js";
import { describeError } from "./errors.js";
import { notify } from "./notice.js";

let target = null; // the message being flagged

function isOpen() {
  return $("flag-dialog").open;
}

export function openFlagDialog(msg) {
  target = msg;
  $("flag-quote").textContent = (msg.author ? msg.author.pseudonym + ": " : "") + msg.text;
  $("flag-reason").selectedIndex = 0;
  $("flag-text").value = "";
  openDialog($("flag-dialog"), { focus: $("flag-reason") });
}

export function closeFlagDialog() {
  target = null;
  closeDialog($("flag-dialog"));
}

/* A message left the view: it can no longer be flagged. */
export function messageGone(id) {
  if (target && target.id === id && isOpen()) {
    closeFlagDialog();
    notify("That message is gone now, so it can't be flagged.", "info");
  }
}

async function submitFlag(event) {
  event.preventDefault();
  const msg = target;
  if (!msg) return;
  const extra = $("flag-text").value.trim();
  let reason = $("flag-reason").value + (extra ? ": " + extra : "");
  reason = [...reason].slice(0, 500).join("");
  $("flag-submit").disabled = true;
  const ack = await request("message:flag", { room: msg.room, message_id: msg.id, reason });
  $("flag-submit").disabled = false;
  closeFlagDialog();
  if (ack.ok) notify("Thanks, a moderator will review it.", "success");
  else notify(describeError(ack.error, "flag"), "error");
}

export function wireFlagDialog() {
  $("flag-form").addEventListener("submit", submitFlag);
  $("flag-cancel").addEventListener("click", closeFlagDialog);
}
