/* What the chat page knows about rooms: the listed rooms and the one on screen. */

let listed = new Map(); // id -> Room, from GET /api/rooms and room:updated
let current = null; // {room, you, members: Map(id -> Member), muted: Map(id -> until|null)}
let mute = null; // null, or {until: ms|null} while I am muted in the room on screen

export function rooms() {
  return listed;
}

export function setRooms(map) {
  listed = map;
}

/* The room on screen, or null. */
export function here() {
  return current;
}

export function setHere(value) {
  current = value;
  if (!value) mute = null;
}

export function isHere(roomId) {
  return !!current && current.room.id === roomId;
}

export function isMe(memberId) {
  return !!current && !!current.you && current.you.id === memberId;
}

export function myMute() {
  return mute;
}

export function setMyMute(value) {
  mute = value;
}
