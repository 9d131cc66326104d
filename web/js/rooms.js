/* The room list: loading it, keeping it fresh, showing it. */

import { emit, on } from "./bus.js";
import { $, clear, el } from "./dom.js";
import { ttlText } from "./header.js";
import { active } from "./identity.js";
import { api } from "./net.js";
import { notify } from "./notice.js";
import { unseenCount } from "./messages.js";
import { chooseRoom } from "./room.js";
import { here, isHere, rooms, setRooms } from "./room-state.js";
import { unreadElsewhere, unreadIn } from "./unread.js";

let timer = null;

export async function loadRooms() {
  const a = active();
  if (!a) return;
  const res = await api("GET", "/api/rooms", { token: a.token });
  if (active() !== a) return;
  if (!res.ok) {
    if (res.error.code === "unauthorized") emit("unauthorized");
    else notify("Couldn't load the rooms: " + res.error.message, "error");
    return;
  }
  const list = res.data && Array.isArray(res.data.rooms) ? res.data.rooms : [];
  setRooms(new Map(list.map((r) => [r.id, r])));
  const current = here();
  if (current && rooms().has(current.room.id)) {
    // Keep the live copy (room:updated) but take the fresh member count.
    current.room.members = rooms().get(current.room.id).members;
  }
  renderRooms();
}

/* Reload the list every 30 s while someone is using the page. */
export function keepRoomsFresh() {
  if (!timer) {
    timer = window.setInterval(() => {
      if (active()) loadRooms();
    }, 30000);
  }
}

/* Keep the room list's "N here" for the room I am in as live as the member list. */
function syncRoomCount() {
  const current = here();
  const listed = current && rooms().get(current.room.id);
  if (!listed) return;
  listed.members = current.members.size;
  renderRooms();
}

export function renderRooms() {
  const list = $("room-list");
  const focused = document.activeElement && list.contains(document.activeElement)
    ? document.activeElement.closest("[data-room-id]").dataset.roomId
    : null;
  clear(list);
  const sorted = [...rooms().values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  for (const room of sorted) {
    const n = Number(room.members) || 0;
    const meta = [(n === 1 ? "1 person" : n + " people") + " here", ttlText(room)];
    if (room.locked) meta.push("Locked");
    if (room.slow_mode_s) meta.push("Slow mode");
    if (room.capacity !== null && room.capacity !== undefined && n >= room.capacity) meta.push("Full");
    const isCurrent = isHere(room.id);
    const unread = isCurrent ? unseenCount() : unreadIn(room.id);
    const button = el(
      "button",
      {
        type: "button",
        class: "room-item",
        "aria-current": isCurrent ? "true" : null,
        dataset: { testid: "room-link" },
        on: { click: () => chooseRoom(room.id) },
      },
      el("span", { class: "room-item-name", dir: "auto", text: room.name }),
      unread ? badge(unread, unread === 1 ? " new message" : " new messages") : null,
      room.topic ? el("span", { class: "room-item-topic", dir: "auto", text: room.topic }) : null,
      el("span", { class: "room-item-meta", text: meta.join(" · ") }),
    );
    list.append(el("li", { dataset: { roomId: room.id }, class: isCurrent ? "current" : null }, button));
  }
  $("room-list-empty").hidden = rooms().size > 0;
  if (focused) {
    const again = list.querySelector('[data-room-id="' + CSS.escape(focused) + '"] button');
    if (again) again.focus();
  }
}

export function wireRooms() {
  $("rooms-refresh-button").addEventListener("click", loadRooms);
  on("room:entered", renderRooms);
  on("room:left", renderRooms);
  on("rooms:changed", renderRooms);
  on("members:changed", syncRoomCount);
  on("room:joined", loadRooms); // fresh member counts, this visit included
  on("rooms:stale", loadRooms);
  on("unread", () => {
    renderRooms();
    showTitle();
  });
  on("unread:elsewhere", () => {
    renderRooms();
    showTitle();
  });
  on("room:entered", showTitle);
  on("room:left", showTitle);
}

function badge(n, words) {
  return el("span", { class: "unread-badge" }, String(n), el("span", { class: "visually-hidden", text: words }));
}

/* On a phone the room list is behind the "Rooms" button: it carries the count of the other rooms. */
function showBackCount() {
  const n = unreadElsewhere();
  const back = $("back-button");
  if (Number(back.dataset.unread || 0) === n) return;
  back.dataset.unread = String(n);
  clear(back);
  back.append("Rooms");
  if (n) back.append(" ", badge(n, n === 1 ? " new message in another room" : " new messages in other rooms"));
}

/* The tab title tells how many messages came while the reader was away, in every room I am in. */
function showTitle() {
  showBackCount();
  const unread = unseenCount() + unreadElsewhere();
  const current = here();
  const base = current ? (current.room.name || current.room.id) + " · Hearth" : "Hearth";
  const title = unread > 0 ? "(" + unread + ") " + base : base;
  if (document.title !== title) document.title = title;
}
