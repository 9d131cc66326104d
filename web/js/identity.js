/* Who I am on the chat page: an anonymous peer session, and maybe a staff sign-in on top. */

import { api } from "./net.js";
import { notify } from "./notice.js";
import { waitText } from "./format.js";
import { isStaffRole, loadSession, validSession } from "./session.js";
import { store } from "./storage.js";

const PEER_KEY = "hearth.session"; // {token, identity} of the anonymous peer
const STAFF_KEY = "hearth.staff"; // {token, identity} of a signed-in facilitator or admin

let peer = loadSession(PEER_KEY);
let staff = loadSession(STAFF_KEY);

/* The session the page uses: staff when signed in, else the peer's. */
export function active() {
  return staff || peer;
}

export function staffSession() {
  return staff;
}

export function isStaff() {
  const a = active();
  return !!a && isStaffRole(a.identity.role);
}

export function myRole() {
  const a = active();
  return a ? a.identity.role : "peer";
}

export function setStaff(session) {
  staff = session;
  if (session) store.set(STAFF_KEY, session);
  else store.remove(STAFF_KEY);
}

export function forgetPeer() {
  peer = null;
  store.remove(PEER_KEY);
}

export function peerName() {
  return peer ? peer.identity.pseudonym : null;
}

/* Ask for a new anonymous session; false (after a notice) when refused. */
export async function createSession(pseudonym) {
  const body = pseudonym ? { pseudonym } : {};
  const res = await api("POST", "/api/session", { body });
  if (!res.ok) {
    let text = res.error.message;
    if (res.error.code === "invalid") {
      text = "That name can't be used: " + res.error.message + " Please try another, or leave it empty.";
    } else if (res.error.code === "rate_limited") {
      text = "Too many new sessions from here. Please wait " + waitText(res.error.retry_after_ms) + ".";
    }
    notify(text, "error");
    return false;
  }
  peer = validSession(res.data);
  if (!peer) {
    notify("The server sent an unexpected answer. Please try again.", "error");
    return false;
  }
  store.set(PEER_KEY, peer);
  return true;
}
