/* "… is typing": telling the room (at most once every few seconds, never stored by the server)
 * and showing who else is typing, three names at most. */

import { on } from "./bus.js";
import { isConnected, onServer, request } from "./connection.js";
import { $ } from "./dom.js";
import { here, isHere, isMe } from "./room-state.js";

const SEND_EVERY_MS = 3000; // the server drops anything more frequent
const SHOWN_FOR_MS = 6000; // a typing cue lasts this long unless renewed

let lastSent = 0;
const typers = new Map(); // member id -> local time when the cue ends

/* A message went out: the next keystroke may tell the room again at once. */
export function sentMessage() {
  lastSent = 0;
}

/* The composer changed: tell the room, now and then. */
export function typed() {
  const current = here();
  const now = Date.now();
  if (!current || !isConnected() || now - lastSent < SEND_EVERY_MS) return;
  lastSent = now;
  request("typing", { room: current.room.id });
}

function names() {
  const current = here();
  if (!current) return [];
  return [...typers.keys()].map((id) => current.members.get(id)).filter(Boolean).map((m) => m.pseudonym);
}

export function renderTyping() {
  const who = names();
  let text = "";
  if (who.length === 1) text = who[0] + " is typing…";
  else if (who.length === 2) text = who[0] + " and " + who[1] + " are typing…";
  else if (who.length === 3) text = who[0] + ", " + who[1] + " and " + who[2] + " are typing…";
  else if (who.length > 3) text = "Several people are typing…";
  const box = $("typing");
  if (box.textContent !== text) box.textContent = text;
}

/* Cues end on time (called every second). */
export function expireTyping() {
  const now = Date.now();
  let changed = false;
  for (const [id, until] of typers) {
    if (now >= until) {
      typers.delete(id);
      changed = true;
    }
  }
  if (changed) renderTyping();
}

function stop(memberId) {
  if (typers.delete(memberId)) renderTyping();
}

onServer("member:typing", (p) => {
  if (!p || !isHere(p.room) || isMe(p.member_id)) return;
  typers.set(p.member_id, Date.now() + SHOWN_FOR_MS);
  renderTyping();
});
onServer("message:new", (msg) => {
  if (msg && msg.author && isHere(msg.room)) stop(msg.author.id);
});
onServer("member:left", (p) => {
  if (p && isHere(p.room)) stop(p.member_id);
});
on("room:left", () => {
  typers.clear();
  lastSent = 0;
  renderTyping();
});
