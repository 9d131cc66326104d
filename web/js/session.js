/* Stored sessions ({token, identity}) and the staff sign-in, shared by the chat and admin pages. */

import { api } from "./net.js";
import { notify } from "./notice.js";
import { humanDuration } from "./format.js";
import { store } from "./storage.js";

/* A stored or received session, or null when it is not shaped like one. */
export function validSession(s) {
  return s && typeof s === "object" && typeof s.token === "string" && s.identity && typeof s.identity === "object"
    ? s
    : null;
}

export function loadSession(key) {
  return validSession(store.get(key));
}

export function isStaffRole(role) {
  return role === "facilitator" || role === "admin";
}

/* Staff sign-in. Resolves to a valid session, or to null after telling the user what went wrong. */
export async function signIn(nameInput, passwordInput, button) {
  const name = nameInput.value.trim();
  const password = passwordInput.value;
  if (!name || !password) {
    notify("Please enter your name and password.", "error");
    return null;
  }
  button.disabled = true;
  const res = await api("POST", "/api/login", { body: { name, password } });
  button.disabled = false;
  if (!res.ok) {
    let text = res.error.message;
    if (res.error.code === "unauthorized") text = "That name and password don't match.";
    else if (res.error.code === "rate_limited") {
      text = "Too many attempts. Please wait " + humanDuration((res.error.retry_after_ms || 60000) / 1000) +
        " and try again.";
    }
    notify(text, "error");
    return null;
  }
  passwordInput.value = "";
  const session = validSession(res.data);
  if (!session) notify("The server sent an unexpected answer.", "error");
  return session;
}
