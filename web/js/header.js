/* The head of the room on screen: name, topic, indicators and the staff room controls. */

import { $, el } from "./dom.js";
import { humanDuration } from "./format.js";
import { isStaff } from "./identity.js";
import { here } from "./room-state.js";

export function ttlText(room) {
  return "Messages disappear after " + humanDuration(room.message_ttl_s || 86400);
}

export function renderRoomHeader() {
  const current = here();
  if (!current) return;
  const room = current.room;
  $("room-name").textContent = room.name || room.id;
  $("room-topic").textContent = room.topic || "";
  $("room-topic").hidden = !room.topic;
  $("room-ttl").textContent = ttlText(room);
  $("room-locked").hidden = !room.locked;
  $("room-slow").hidden = !room.slow_mode_s;
  $("room-slow").textContent = room.slow_mode_s ? "Slow mode: one message every " + humanDuration(room.slow_mode_s) : "";
  $("room-controls").hidden = !isStaff();
  const lock = $("lock-button");
  lock.textContent = room.locked ? "Unlock room" : "Lock room";
  lock.dataset.action = room.locked ? "unlock" : "lock";
  const select = $("slow-mode-select");
  const value = String(room.slow_mode_s || 0);
  if (![...select.options].some((o) => o.value === value)) {
    select.append(el("option", { value, text: humanDuration(Number(value)) }));
  }
  select.value = value;
}
