/* A tiny event bus: how the page's modules (and feature modules added later) hear about
 * each other without importing each other. Events used by the chat page:
 *   "identity"        the active identity changed (sign-in, sign-out, new session)
 *   "unauthorized"    the server refused our token
 *   "connected", "disconnected"   the socket's state
 *   "room:entered" {room, you}, "room:left" {room}   the room on screen changed
 *   "room:removed" {room, reason, banned_until, name, onScreen}   I was removed from (or not let
 *                     into) a room; onScreen: whether it was the room on screen
 *   "members:changed" the member list of the room on screen changed
 *   "message:rendered" {msg, node}   a message was put on screen
 *   "unread" n        messages on screen not yet scrolled into view
 *   "unread:elsewhere"   the unread counts of rooms joined but not on screen changed
 */

const handlers = new Map();

export function on(event, fn) {
  if (!handlers.has(event)) handlers.set(event, new Set());
  handlers.get(event).add(fn);
  return () => handlers.get(event).delete(fn);
}

export function emit(event, payload) {
  for (const fn of handlers.get(event) || []) {
    try {
      fn(payload);
    } catch (e) {
      window.setTimeout(() => {
        throw e;
      });
    }
  }
}
