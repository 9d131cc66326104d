/* Error codes (docs/PROTOCOL.md) in words for the person who met them. */

import { serverNow } from "./clock.js";
import { formatDateTime, formatWhen, timeLeft, waitText } from "./format.js";

export function mutedText(until, reason) {
  if (reason === "new_identity" && typeof until === "number") {
    return "New names can write in this room a little while after they are created: you can write in " +
      timeLeft(until, serverNow()) + " (at " + formatWhen(until) + "). You can read the conversation meanwhile.";
  }
  if (until === null || until === undefined) {
    return "You're muted until a facilitator unmutes you. You can still read the conversation.";
  }
  return "You're muted for " + timeLeft(until, serverNow()) + " more (until " + formatWhen(until) +
    "). You can still read the conversation.";
}

/* what: "join" | "send" | "flag" | "mod" | ... (a few codes read differently per action). */
export function describeError(e, what) {
  const code = e && e.code;
  switch (code) {
    case "muted":
      return mutedText(e.until, e.reason);
    case "rate_limited":
      return "You're sending quickly. Please wait " + waitText(e.retry_after_ms) + " and try again.";
    case "slow_mode":
      return "This room is in slow mode. You can send again in " + waitText(e.retry_after_ms) + ".";
    case "room_locked":
      return what === "join"
        ? "This room is locked right now, so no one new can join. Please try again later."
        : "This room is locked right now. You can read, but new messages are paused.";
    case "room_full":
      return "This room is full at the moment. Please try again a little later, or choose another room.";
    case "banned": {
      const until = e.until !== undefined ? e.until : e.banned_until;
      return until ? "You can't join this room until " + formatDateTime(until) + "." : "You can't join this room.";
    }
    case "invalid":
      return what === "send"
        ? "That message can't be sent" + (e.message ? ": " + e.message : ". Messages are 1 to 2000 characters.")
        : "That didn't work" + (e.message ? ": " + e.message : ".");
    case "not_member":
      return "You're not in this room any more. Please join it again.";
    case "not_found":
      return what === "join"
        ? "That room doesn't exist any more."
        : "That's no longer there. It may have expired or been deleted.";
    case "forbidden":
      return "You don't have permission to do that" + (e.message ? ": " + e.message : ".");
    case "unauthorized":
      return "Your session has ended. Please start again.";
    case "unavailable":
      return "Hearth is having trouble right now. Please try again in a moment.";
    case "conflict":
      return e.message || "That was already done.";
    default:
      return (e && e.message) || "Something went wrong. Please try again.";
  }
}
