/* Being in a room: choosing, joining (and rejoining after a reconnect), the room view, leaving,
 * and what the server says about the room on screen. */

import { emit, on } from "./bus.js";
import { updateComposer } from "./composer.js";
import { isConnected, onServer, request } from "./connection.js";
import { $ } from "./dom.js";
import { describeError } from "./errors.js";
import { closeFlagDialog } from "./flag.js";
import { formatDateTime, humanDuration } from "./format.js";
import { renderRoomHeader } from "./header.js";
import { isStaff, staffSession } from "./identity.js";
import { renderMembers } from "./members.js";
import { clearMessages, holdMessagesFor, releaseHeld, renderMessage, scrollToBottom } from "./messages.js";
import { api } from "./net.js";
import { clearNotice, notify } from "./notice.js";
import { here, isHere, myMute, rooms, setHere, setMyMute } from "./room-state.js";
import { store } from "./storage.js";
import { dropJoined, keepJoined, leaveAllElsewhere, rejoinElsewhere } from "./unread.js";

const ROOM_KEY = "hearth.room"; // id of the room to come back to after a reload

let wanted = deepLink() || store.get(ROOM_KEY); // room to be in (joined on every connect)
let joining = null; // room id of a join in flight
// A peer waiting for admission asks again now and then, so staff who arrive later see them too (rule 24).
const ASK_AGAIN_MS = 10000;
let askAgain = null;

/* /?room=ID opens that room once there is an identity. */
function deepLink() {
  try {
    const id = new URLSearchParams(window.location.search).get("room");
    if (id && /^[a-z0-9][a-z0-9-]{0,63}$/.test(id)) {
      store.set(ROOM_KEY, id);
      return id;
    }
  } catch (_e) {
    /* no deep link */
  }
  return null;
}

function showUrl(roomId) {
  const url = roomId ? "/?room=" + encodeURIComponent(roomId) : "/";
  if (window.location.pathname + window.location.search !== url) window.history.replaceState(null, "", url);
}

/* On a phone the room list and the room take turns on the screen. */
function showRoomList(on) {
  $("chat").classList.toggle("show-rooms", on);
  if (!on) emit("room:shown");
}

export function chooseRoom(roomId) {
  if (isHere(roomId)) {
    showRoomList(false);
    focusComposerOrTitle();
    return;
  }
  wanted = roomId;
  store.set(ROOM_KEY, roomId);
  if (isConnected()) joinRoom(roomId, {});
  else notify("Connecting… you'll join the room in a moment.", "info");
}

const joinErrorHandlers = [];

/* A feature that handles a join error (guidelines to accept, a wait for admission) registers
 * here: fn(roomId, error) returns true when it took care of the error; the room stays wanted. */
export function onJoinError(fn) {
  joinErrorHandlers.push(fn);
}

/* Join again with extra payload fields (e.g. {accept_guidelines: 3}). */
export function joinWith(roomId, extra) {
  wanted = roomId;
  store.set(ROOM_KEY, roomId);
  return joinRoom(roomId, { extra });
}

export function forgetRoom() {
  wanted = null;
  store.remove(ROOM_KEY);
}

async function joinRoom(roomId, { rejoin, extra, accept }) {
  if (joining === roomId) return;
  joining = roomId;
  holdMessagesFor(roomId);
  try {
    const current = here();
    if (current && current.room.id !== roomId) {
      // The room left on screen stays joined, so its unread count keeps growing (js/unread.js);
      // only rooms over the limit of rooms kept are left.
      const over = keepJoined(current);
      leaveView();
      for (const old of over) request("room:leave", { room: old });
    }
    const payload = { ...extra, room: roomId };
    if (accept !== undefined) payload.accept_guidelines = accept;
    const ack = await request("room:join", payload);
    if (wanted !== roomId) return; // the user chose another room meanwhile
    if (!ack.ok && ack.error.code === "guidelines") {
      emit("join:guidelines", { room: roomId, error: ack.error }); // js/safety.js asks, then "join:accept"
      return;
    }
    if (!ack.ok) {
      if (ack.error.code === "waiting") {
        leaveView();
        emit("room:waiting", roomId); // kept as the wanted room: room:admitted joins it
        clearTimeout(askAgain);
        askAgain = setTimeout(() => {
          if (wanted === roomId && !here()) joinRoom(roomId, { rejoin: true });
        }, ASK_AGAIN_MS);
        return;
      }
      if (ack.error.code === "offline" || ack.error.code === "timeout") {
        notify(describeError(ack.error, "join"), "warn");
        return; // joined again on the next connect
      }
      if (joinErrorHandlers.some((fn) => fn(roomId, ack.error))) return;
      forgetRoom();
      dropJoined(roomId);
      leaveView();
      notify(describeError(ack.error, "join"), "error", { cause: "join" });
      return;
    }
    const again = isHere(roomId); // a rejoin after a reconnect, with the room already on screen
    const keepMute = again ? myMute() : null;
    clearNotice("join");
    dropJoined(roomId); // on screen now: its unread count clears
    enterView(ack, keepMute, again);
    if (!rejoin) notify("You joined " + here().room.name + ".", "info");
    emit("room:joined", here().room);
  } finally {
    joining = null;
  }
}

function enterView(ack, keepMute, again) {
  const room = ack.room && typeof ack.room === "object" ? ack.room : rooms().get(wanted) || { id: wanted, name: wanted };
  const current = { room, you: ack.you || null, members: new Map(), muted: new Map() };
  const hadFocus = document.activeElement;
  setHere(current);
  // The join ack says whether I am muted here (a Hearth extension), so a reload shows it at once.
  setMyMute(ack.mute ? { until: ack.mute.until === undefined ? null : ack.mute.until } : keepMute);
  for (const m of ack.members || []) current.members.set(m.id, m);
  if (ack.you) current.members.set(ack.you.id, ack.you);
  clearMessages();
  for (const msg of ack.history || []) renderMessage(msg);
  for (const msg of releaseHeld(room.id)) renderMessage(msg); // arrived ahead of this answer; repeats are skipped by id
  $("room-view").hidden = false;
  $("chat").classList.add("in-room");
  showRoomList(false);
  showUrl(room.id);
  renderRoomHeader();
  renderMembers();
  emit("room:entered", current);
  updateComposer();
  scrollToBottom(true);
  // After a reconnect, leave focus where the person had it (if it is still on the page).
  if (!again || !hadFocus || hadFocus === document.body || !hadFocus.isConnected) focusComposerOrTitle();
}

function focusComposerOrTitle() {
  if (!$("composer").disabled) $("composer").focus();
  else $("room-name").focus();
}

/* Take the room off the screen (the server side is the caller's business). */
export function leaveView() {
  const current = here();
  setHere(null);
  clearMessages();
  renderMembers();
  showMembers(false);
  $("room-view").hidden = true;
  $("chat").classList.remove("in-room");
  showRoomList(false);
  if (current) showUrl(null);
  closeFlagDialog();
  emit("room:left", current ? current.room : null);
}

async function leaveRoom() {
  const current = here();
  if (!current) return;
  const { id, name } = current.room;
  forgetRoom();
  leaveView();
  $("rooms-title").focus();
  await request("room:leave", { room: id });
  notify("You left " + name + ".", "info");
  emit("rooms:stale");
}

/* The member list: a column on wide screens, a drawer on narrow ones. */
function showMembers(on) {
  const view = $("room-view");
  const was = view.classList.contains("show-members");
  view.classList.toggle("show-members", on);
  $("members-button").setAttribute("aria-expanded", on ? "true" : "false");
  if (on && !was) $("members-title").focus();
  else if (!on && was && view.contains(document.activeElement) && $("members-panel").contains(document.activeElement)) {
    $("members-button").focus();
  }
}

/* Leave for good without waiting (a new identity is on its way). */
export function abandonRoom() {
  const current = here();
  if (current) request("room:leave", { room: current.room.id });
  leaveAllElsewhere();
  forgetRoom();
}

/* A newer copy of a room (room:updated, or the answer to my own change). */
function applyRoomUpdate(room) {
  if (!room || typeof room !== "object" || !room.id) return;
  rooms().set(room.id, room);
  const current = here();
  if (current && current.room.id === room.id) {
    const wasLocked = !!current.room.locked;
    const oldSlow = current.room.slow_mode_s || 0;
    current.room = room;
    renderRoomHeader();
    updateComposer();
    if (wasLocked !== !!room.locked) {
      notify(
        room.locked
          ? "This room is now locked. " + (isStaff() ? "Peers can read but not send." : "You can still read.")
          : "This room is open again.",
        "info",
      );
    } else if (oldSlow !== (room.slow_mode_s || 0)) {
      notify(room.slow_mode_s ? "Slow mode is on: one message every " + humanDuration(room.slow_mode_s) + "." : "Slow mode is off.", "info");
    }
  }
  emit("rooms:changed");
}

function onRoomRemoved(p) {
  if (!p) return;
  const roomId = p.room;
  if (wanted === roomId) forgetRoom();
  const current = here();
  const onScreen = !!current && current.room.id === roomId;
  const listed = rooms().get(roomId);
  const name = (onScreen ? current.room.name : listed && listed.name) || roomId;
  // Told here, while it is still known whether the room was the one on screen.
  emit("room:removed", { ...p, name, onScreen });
  if (!onScreen) {
    emit("rooms:stale");
    return;
  }
  leaveView();
  if (p.reason === "room_deleted") {
    notify("This room was deleted: " + name + ".", "warn");
  } else {
    notify(
      "You were removed from this room (" + name + ")" +
        (p.banned_until ? " and can't rejoin until " + formatDateTime(p.banned_until) : "") +
        (p.reason && p.reason !== "removed" ? ". Reason: " + p.reason : "") + ".",
      "warn",
    );
  }
  emit("rooms:stale");
}

async function patchRoom(changes) {
  const current = here();
  const staff = staffSession();
  if (!current || !staff) return;
  const res = await api("PATCH", "/api/rooms/" + encodeURIComponent(current.room.id), { token: staff.token, body: changes });
  if (!res.ok) {
    if (res.error.code === "unauthorized") return emit("unauthorized");
    notify("Couldn't change the room: " + res.error.message, "error");
    renderRoomHeader();
    return;
  }
  if (res.data && res.data.id) applyRoomUpdate(res.data);
}

/* My mute ends on time (called every second). */
export function expireMyMute(now) {
  const mute = myMute();
  if (mute && typeof mute.until === "number" && now >= mute.until) {
    setMyMute(null);
    notify("Your mute has ended. You can send messages again.", "success");
    updateComposer();
  } else if (mute) {
    updateComposer();
  }
}

export function wireRoom() {
  $("leave-button").addEventListener("click", leaveRoom);
  $("back-button").addEventListener("click", () => {
    showRoomList(true);
    $("rooms-title").focus();
  });
  $("members-button").addEventListener("click", () => showMembers(!$("room-view").classList.contains("show-members")));
  $("members-close").addEventListener("click", () => showMembers(false));
  $("members-panel").addEventListener("keydown", (e) => {
    if (e.key === "Escape" && $("room-view").classList.contains("show-members")) {
      e.preventDefault();
      showMembers(false);
    }
  });
  // The drawer closes when the person taps or clicks anywhere else (a menu it opened aside).
  document.addEventListener("pointerdown", (e) => {
    if (!$("room-view").classList.contains("show-members")) return;
    if (e.target.closest("#members-panel, #members-button, .menu")) return;
    showMembers(false);
  });
  $("lock-button").addEventListener("click", () => {
    if (here()) patchRoom({ locked: !here().room.locked });
  });
  $("slow-mode-select").addEventListener("change", (e) => patchRoom({ slow_mode_s: Number(e.target.value) }));
  on("connected", () => {
    if (wanted) joinRoom(wanted, { rejoin: true });
    rejoinElsewhere(wanted);
  });
  on("rejoin", (roomId) => joinRoom(roomId, { rejoin: true }));
  on("join:accept", ({ room, version }) => {
    if (wanted === room) joinRoom(room, { accept: version });
  });
  on("join:cancel", (room) => {
    if (wanted === room) forgetRoom();
  });
}

onServer("room:updated", applyRoomUpdate);
onServer("room:removed", onRoomRemoved);
