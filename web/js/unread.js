/* Rooms I am still in but not looking at, and how many messages came in each since I last
 * looked (the badges in the room list and the count in the tab title).
 *
 * Switching rooms keeps the room left on screen joined (the server lets a member be in several
 * rooms), so its messages keep arriving and are counted here. At most MAX_ELSEWHERE rooms are
 * kept; opening one more leaves the one looked at longest ago. The list (room ids and when each
 * was last seen, nothing else) is kept in localStorage, so after a reload or a reconnect the rooms
 * are joined again and the counts come back from each room's history. "Leave room" leaves for
 * good; "Forget me" clears it with everything else of Hearth's. */

import { emit } from "./bus.js";
import { serverNow } from "./clock.js";
import { onServer, request } from "./connection.js";
import { isHere } from "./room-state.js";
import { store } from "./storage.js";

const KEY = "hearth.elsewhere"; // [{room, seen}]
const MAX_ELSEWHERE = 5;

// room id -> {seen: server ms when last on screen, you: my member id there or null, unread: Map(message id -> expires_at)}
const elsewhere = new Map();
const retries = new Map(); // room id -> timer of a rejoin refused as rate_limited

for (const item of store.get(KEY) || []) {
  if (item && typeof item.room === "string" && typeof item.seen === "number" && elsewhere.size < MAX_ELSEWHERE) {
    elsewhere.set(item.room, { seen: item.seen, you: null, unread: new Map() });
  }
}

function save() {
  store.set(KEY, [...elsewhere].map(([room, e]) => ({ room, seen: e.seen })));
}

function changed() {
  save();
  emit("unread:elsewhere");
}

/* Messages not yet seen in a room I am in but not looking at. */
export function unreadIn(roomId) {
  const e = elsewhere.get(roomId);
  return e ? e.unread.size : 0;
}

export function unreadElsewhere() {
  let n = 0;
  for (const e of elsewhere.values()) n += e.unread.size;
  return n;
}

export function isJoinedElsewhere(roomId) {
  return elsewhere.has(roomId);
}

/* The room on screen goes off it but stays joined. Answers the ids of rooms to leave now to
 * stay within MAX_ELSEWHERE (the ones looked at longest ago). */
export function keepJoined(current) {
  const roomId = current.room.id;
  elsewhere.delete(roomId);
  elsewhere.set(roomId, { seen: serverNow(), you: current.you ? current.you.id : null, unread: new Map() });
  const over = [];
  for (const id of elsewhere.keys()) {
    if (elsewhere.size - over.length <= MAX_ELSEWHERE) break;
    over.push(id);
  }
  for (const id of over) forget(id);
  changed();
  return over;
}

function forget(roomId) {
  elsewhere.delete(roomId);
  window.clearTimeout(retries.get(roomId));
  retries.delete(roomId);
}

/* The room is on screen now (its count clears), or I am no longer in it. */
export function dropJoined(roomId) {
  if (!elsewhere.has(roomId)) return;
  forget(roomId);
  changed();
}

/* Leave every room kept joined (a new identity is on its way). */
export function leaveAllElsewhere() {
  for (const roomId of [...elsewhere.keys()]) {
    request("room:leave", { room: roomId });
    forget(roomId);
  }
  changed();
}

function counts(e, msg) {
  return !!msg && typeof msg.id === "string" && typeof msg.ts === "number" && msg.ts > e.seen &&
    !(msg.author && e.you && msg.author.id === e.you);
}

/* After a connect, join the kept rooms again; what came meanwhile is counted from their history. */
export function rejoinElsewhere(except) {
  for (const roomId of [...elsewhere.keys()]) {
    if (roomId !== except && !isHere(roomId)) rejoin(roomId);
  }
}

async function rejoin(roomId) {
  retries.delete(roomId);
  const ack = await request("room:join", { room: roomId });
  const e = elsewhere.get(roomId);
  if (!e || isHere(roomId)) return; // opened or dropped meanwhile
  if (!ack.ok) {
    const code = ack.error && ack.error.code;
    if (code === "rate_limited") {
      const wait = Math.max(1000, Number(ack.error.retry_after_ms) || 1000);
      retries.set(roomId, window.setTimeout(() => rejoin(roomId), wait));
    } else if (code !== "offline" && code !== "timeout") {
      dropJoined(roomId); // gone, locked, banned, new guidelines...: it is opened again by choice
    }
    return;
  }
  e.you = ack.you && typeof ack.you.id === "string" ? ack.you.id : null;
  for (const msg of ack.history || []) if (counts(e, msg)) e.unread.set(msg.id, msg.expires_at);
  changed();
}

/* Counted messages that expire stop counting (called every second). */
export function expireElsewhere(now) {
  let gone = false;
  for (const e of elsewhere.values()) {
    for (const [id, expires] of e.unread) {
      if (typeof expires === "number" && now >= expires) gone = e.unread.delete(id) || gone;
    }
  }
  if (gone) changed();
}

onServer("message:new", (msg) => {
  if (!msg || isHere(msg.room)) return;
  const e = elsewhere.get(msg.room);
  if (!e || !counts(e, msg)) return;
  e.unread.set(msg.id, msg.expires_at);
  changed();
});

onServer("message:deleted", (p) => {
  const e = p && elsewhere.get(p.room);
  if (e && e.unread.delete(p.message_id)) changed();
});

onServer("room:removed", (p) => {
  if (p && !isHere(p.room)) dropJoined(p.room);
});
