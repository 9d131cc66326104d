/* Durations, times and counts in words. */

export function plural(n, word) {
  return n + " " + word + (n === 1 ? "" : "s");
}

/* 86400 → "24 hours", 90 → "2 minutes", 604800 → "7 days". */
export function humanDuration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s < 60) return plural(Math.max(1, s), "second");
  if (s < 3600) return plural(Math.round(s / 60), "minute");
  if (s <= 48 * 3600 && s % 86400 !== 0) return plural(Math.round(s / 3600), "hour");
  if (s === 86400) return "24 hours";
  if (s < 14 * 86400 || s % 7 !== 0) return plural(Math.round(s / 86400), "day");
  return plural(Math.round(s / (7 * 86400)), "week");
}

/* Time left until a ms timestamp, in words, rounded up: "3 minutes". */
export function timeLeft(untilMs, nowMs) {
  const now = nowMs === undefined ? Date.now() : nowMs;
  const seconds = Math.max(1, Math.ceil((untilMs - now) / 1000));
  if (seconds < 60) return plural(seconds, "second");
  if (seconds < 3600) return plural(Math.ceil(seconds / 60), "minute");
  if (seconds < 48 * 3600) return plural(Math.ceil(seconds / 3600), "hour");
  return plural(Math.ceil(seconds / 86400), "day");
}

/* A wait in milliseconds (retry_after_ms) in words: "3 seconds", "2 minutes". */
export function waitText(ms) {
  const s = Math.max(1, Math.ceil((Number(ms) || 0) / 1000));
  return s < 60 ? plural(s, "second") : plural(Math.ceil(s / 60), "minute");
}

export function formatTime(ms) {
  try {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  } catch (_e) {
    return "";
  }
}

export function formatDateTime(ms) {
  try {
    return new Date(ms).toLocaleString([], {
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
  } catch (_e) {
    return String(ms);
  }
}

/* The time alone ("14:05") when within 20 hours of now, else the date and time. */
export function formatWhen(ms) {
  const delta = ms - Date.now();
  if (Math.abs(delta) < 20 * 3600 * 1000) return formatTime(ms);
  return formatDateTime(ms);
}
