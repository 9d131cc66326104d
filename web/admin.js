/* Hearth admin review page: flags, audit log, staff, rooms. Plain JavaScript modules, no build step.
 * All user text goes into the page through textContent (el "text" / string children). */

import { $, clear, el } from "./js/dom.js";
import { formatDateTime, humanDuration } from "./js/format.js";
import { api } from "./js/net.js";
import { confirmDialog } from "./js/dialog.js";
import { clearNotice, notify, wireNoticeClose } from "./js/notice.js";
import { loadSession, signIn } from "./js/session.js";
import { store } from "./js/storage.js";
import { decorateFlag, orderFlags, roomSafetyEditor, watchAlerts } from "./js/safety-admin.js";

const KEY = "hearth.admin"; // {token, identity} of the signed-in staff member on this page
const TTL_CHOICES = [60, 600, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400];
const BAN_CHOICES = [
  [86400, "1 day"],
  [null, "7 days"],
  [30 * 86400, "30 days"],
  [365 * 86400, "1 year"],
];

let session = loadSession(KEY);
let socket = null;
let flagStatus = "open";
const shownFlags = new Set();
const roomNames = new Map(); // room id -> name, for showing names instead of ids
const memberNames = new Map(); // member id -> pseudonym, learnt from flags (messages, context, reporter)

/* Flags that may mean someone is at risk come first and stand out. */
const URGENT_REASONS = ["crisis signal", "help request", "someone may be at risk"];

function isUrgent(flag) {
  const reason = String(flag.reason || "").toLowerCase();
  return URGENT_REASONS.some((r) => reason.startsWith(r));
}

function explained(flag) {
  const reason = String(flag.reason || "").toLowerCase();
  return reason === "crisis signal" || reason === "help request";
}

function roomLabel(id) {
  return roomNames.get(id) || id || "";
}

async function loadRoomNames() {
  const res = await call("GET", "/api/rooms");
  if (!res.ok) return;
  for (const room of res.data && Array.isArray(res.data.rooms) ? res.data.rooms : []) roomNames.set(room.id, room.name);
}

function learnNames(flag) {
  for (const m of [flag.message, ...(Array.isArray(flag.context) ? flag.context : [])]) {
    if (m && m.author && m.author.id) memberNames.set(m.author.id, m.author.pseudonym);
  }
  if (flag.reporter && typeof flag.reporter_pseudonym === "string") memberNames.set(flag.reporter, flag.reporter_pseudonym);
}

function isAdmin() {
  return !!session && session.identity.role === "admin";
}

/* An HTTP call with the admin token; a refused token ends the sign-in. */
async function call(method, path, body) {
  if (!session) return { ok: false, error: { code: "unauthorized", message: "Please sign in." } };
  const res = await api(method, path, { token: session.token, body });
  if (!res.ok && res.error.code === "unauthorized") {
    signOut("Your sign-in has ended. Please sign in again.");
  }
  return res;
}

function memberName(m) {
  return m && m.author ? m.author.pseudonym : "someone";
}

// ---------------------------------------------------------------- screens

function render() {
  $("login").hidden = !!session;
  $("not-admin").hidden = !session || isAdmin();
  $("console").hidden = !isAdmin();
  $("admin-bar").hidden = !session;
  if (session) {
    $("admin-name").textContent = session.identity.pseudonym;
    $("admin-role").textContent = session.identity.role;
  }
}

function start() {
  render();
  if (!session) {
    stopSocket();
    $("login-name").focus();
    return;
  }
  if (!isAdmin()) {
    stopSocket();
    notify("This page is for admins. As a facilitator you can moderate rooms from the chat page.", "warn");
    return;
  }
  connectSocket();
  loadRoomNames().then(loadFlags);
}

async function login(event) {
  event.preventDefault();
  const answer = await signIn($("login-name"), $("login-password"), $("login-button"));
  if (!answer) return;
  session = answer;
  store.set(KEY, session);
  clearNotice();
  if (isAdmin()) notify("Signed in as " + session.identity.pseudonym + ".", "success");
  start();
}

function signOut(message) {
  session = null;
  store.remove(KEY);
  stopSocket();
  clear($("flags"));
  shownFlags.clear();
  if (message) notify(message, "warn");
  else clearNotice();
  start();
}

function selectTab(name) {
  for (const tab of ["flags", "audit", "staff", "rooms"]) {
    const on = tab === name;
    $("tab-" + tab).setAttribute("aria-selected", on ? "true" : "false");
    $("tab-" + tab).tabIndex = on ? 0 : -1;
    $("panel-" + tab).hidden = !on;
  }
  if (name === "flags") loadFlags();
  else if (name === "audit") loadRoomNames().then(() => {
    fillAuditRooms();
    loadAudit();
  });
  else if (name === "staff") loadStaff();
  else if (name === "rooms") loadRooms();
}

// ---------------------------------------------------------------- live flags

function stopSocket() {
  delete document.body.dataset.socket;
  if (socket) {
    socket.removeAllListeners();
    socket.disconnect();
    socket = null;
  }
  $("connection-status").textContent = "";
}

function connectSocket() {
  stopSocket();
  if (typeof window.io !== "function" || !session) return;
  const s = window.io({ auth: { token: session.token }, transports: ["websocket"], forceNew: true, reconnectionDelayMax: 10000 });
  socket = s;
  s.on("connect", () => {
    $("connection-status").textContent = "";
    document.body.dataset.socket = "connected";
  });
  s.on("disconnect", (reason) => {
    if (reason === "io client disconnect") return;
    document.body.dataset.socket = "disconnected";
    $("connection-status").textContent = "Reconnecting…";
    if (reason === "io server disconnect") {
      window.setTimeout(() => { if (socket === s && !s.connected) s.connect(); }, 1000 + Math.random() * 2000);
    }
  });
  s.on("connect_error", (err) => {
    if (err && err.data && err.data.code === "unauthorized") {
      signOut("Your sign-in has ended. Please sign in again.");
      return;
    }
    $("connection-status").textContent = "Live updates paused: reconnecting…";
    if (!s.active) window.setTimeout(() => { if (socket === s && !s.connected) s.connect(); }, 5000);
  });
  watchAlerts(s);
  s.on("flag:new", (flag) => {
    if (!flag || typeof flag !== "object") return;
    notify((isUrgent(flag) ? "Urgent: " : "") + "New flag in " + roomLabel(flag.room) + ": " + (flag.reason || ""), "warn");
    if (flagStatus === "open" && !shownFlags.has(flag.id)) {
      learnNames(flag);
      $("flags").prepend(renderFlag(flag));
      shownFlags.add(flag.id);
      $("flags-empty").hidden = true;
      updateOpenCount();
    }
  });
}

// ---------------------------------------------------------------- flags

function updateOpenCount() {
  $("open-count").textContent = flagStatus === "open" ? "(" + shownFlags.size + ")" : "";
}

async function loadFlags() {
  if (!isAdmin()) return;
  const status = flagStatus;
  const res = await call("GET", "/api/admin/flags?status=" + encodeURIComponent(status));
  if (!res.ok) {
    if (res.error.code === "forbidden") notify("Only admins can review flags.", "error");
    else if (res.error.code !== "unauthorized") notify("Couldn't load flags: " + res.error.message, "error");
    return;
  }
  if (status !== flagStatus) return;
  const flags = res.data && Array.isArray(res.data.flags) ? res.data.flags : [];
  // Urgent first, then as the server sent them (newest first).
  flags.sort((a, b) => Number(isUrgent(b)) - Number(isUrgent(a)));
  flags.forEach(learnNames);
  const list = $("flags");
  clear(list);
  shownFlags.clear();
  for (const flag of orderFlags(flags)) {
    list.append(renderFlag(flag));
    shownFlags.add(flag.id);
  }
  $("flags-empty").hidden = flags.length > 0;
  updateOpenCount();
}

function messageItem(msg) {
  if (!msg || typeof msg !== "object") return el("li", { class: "gone", text: "(message not available)" });
  return el(
    "li",
    { dataset: { messageId: msg.id || "" } },
    el(
      "div",
      { class: "message-meta" },
      el("span", { class: "author", dir: "auto", text: memberName(msg) }),
      msg.author && msg.author.role && msg.author.role !== "peer" ? el("span", { class: "badge", text: msg.author.role }) : null,
      typeof msg.ts === "number" ? el("time", { class: "time", text: formatDateTime(msg.ts) }) : null,
    ),
    el("p", { class: "text", dir: "auto", text: typeof msg.text === "string" ? msg.text : "" }),
  );
}

/* The reporter's name is kept (sealed) with the flag's snapshot, so it is gone once the snapshot
 * is destroyed after retention, and flags from before it was kept have none: then say so. */
function reporterLine(flag) {
  const line = el("span", { class: "flag-reporter" });
  if (!flag.reporter) {
    line.textContent = "Raised by Hearth (a crisis signal)";
    return line;
  }
  const name = typeof flag.reporter_pseudonym === "string" ? flag.reporter_pseudonym : memberNames.get(flag.reporter);
  line.append(String(flag.reason || "").toLowerCase().startsWith("help request") ? "Asked for help: " : "Reported by ");
  line.append(
    name
      ? el("span", { class: "reporter-name", dir: "auto", text: name })
      : "a member of the room (their name is no longer kept with this flag)",
  );
  return line;
}

function renderFlag(flag) {
  const urgent = isUrgent(flag);
  const item = el("li", {
    class: "card flag" + (urgent ? " urgent" : ""),
    dataset: { flagId: flag.id, status: flag.status || "", urgent: urgent ? "true" : "false" },
  });
  item.append(
    el(
      "div",
      { class: "card-head" },
      // Crisis signals and help requests get js/safety-admin.js's fuller explanation instead.
      urgent && !explained(flag) ? el("span", { class: "urgent-tag", text: "Urgent: someone may be at risk" }) : null,
      el("span", {}, "Room: ", el("strong", { dir: "auto", text: roomLabel(flag.room) })),
      el("span", { text: "Flagged " + (flag.created_at ? formatDateTime(flag.created_at) : "") }),
      reporterLine(flag),
      el("span", { class: "flag-status", text: "Status: " + (flag.status || "open") }),
    ),
    el("p", { class: "flag-reason", text: flag.reason || "" }),
  );
  const context = Array.isArray(flag.context) ? flag.context : [];
  if (context.length) {
    item.append(
      el("p", { class: "hint", text: "Just before it:" }),
      el("ol", { class: "context", "aria-label": "Messages just before the flagged one" }, ...context.map(messageItem)),
    );
  }
  item.append(
    el("p", { class: "hint", text: "Flagged message:" }),
    el("ul", { class: "snapshot", "aria-label": "The flagged message" }, messageItem(flag.message)),
  );
  if (flag.resolution && typeof flag.resolution === "object") {
    const r = flag.resolution;
    item.append(
      el("p", {
        class: "hint resolution",
        text: "Resolved: " + (r.action || "") + " by " + (r.by || "?") + (r.at ? ", " + formatDateTime(r.at) : "") +
          (r.note ? ". Note: " + r.note : ""),
      }),
    );
  }
  if ((flag.status || "open") === "open") item.append(resolveControls(flag, !!flag.message));
  decorateFlag(flag, item);
  return item;
}

/* hasMessage: a help request has no message, so it can only be dismissed. */
function resolveControls(flag, hasMessage) {
  const noteId = "note-" + flag.id;
  const banId = "ban-" + flag.id;
  const note = el("input", { id: noteId, class: "flag-note", type: "text", maxlength: "500", autocomplete: "off" });
  const ban = el(
    "select",
    { id: banId, class: "flag-ban-length" },
    ...BAN_CHOICES.map(([value, label]) => el("option", { value: value === null ? "" : String(value), selected: value === null, text: label })),
  );
  const buttons = [];
  const act = async (action) => {
    const body = { action };
    const text = note.value.trim();
    if (text) body.note = text;
    if (action === "ban" && ban.value) body.ban_s = Number(ban.value);
    buttons.forEach((b) => { b.disabled = true; });
    const res = await call("POST", "/api/admin/flags/" + encodeURIComponent(flag.id) + "/resolve", body);
    buttons.forEach((b) => { b.disabled = false; });
    if (res.ok) {
      const words = { dismiss: "Flag dismissed.", delete_message: "Message deleted and flag closed.", ban: "Author removed and banned; flag closed." };
      notify(words[action], "success");
    } else if (res.error.code === "conflict") {
      notify("That flag was already resolved.", "warn");
    } else if (res.error.code !== "unauthorized") {
      notify("Couldn't resolve the flag: " + res.error.message, "error");
      return;
    }
    loadFlags();
  };
  const button = (action, label, cls) => {
    const b = el("button", { type: "button", class: cls || "", dataset: { action }, text: label, on: { click: () => act(action) } });
    buttons.push(b);
    return b;
  };
  return el(
    "div",
    { class: "resolve" },
    el("div", { class: "field" }, el("label", { for: noteId, text: "Note (optional)" }), note),
    button("dismiss", hasMessage ? "Dismiss" : "Mark as handled"),
    hasMessage ? button("delete_message", "Delete message", "button-danger") : null,
    hasMessage ? el("div", { class: "field" }, el("label", { for: banId, text: "Ban length" }), ban) : null,
    hasMessage ? button("ban", "Ban author", "button-danger") : null,
  );
}

// ---------------------------------------------------------------- audit

const AUDIT_WORDS = {
  mute: "Muted a member",
  unmute: "Unmuted a member",
  remove: "Removed a member",
  delete: "Deleted a message",
  warn: "Warned a member",
  admit: "Admitted a member",
  deny: "Turned a member away",
  "room.create": "Created the room",
  "room.delete": "Deleted the room",
  "flag.dismiss": "Dismissed a flag",
  "flag.delete_message": "Deleted a flagged message",
  "flag.ban": "Banned the author of a flagged message",
  "staff.add": "Added a staff account",
  "staff.remove": "Removed a staff account",
};

function fillAuditRooms() {
  const select = $("audit-room");
  const keep = select.value;
  clear(select);
  select.append(el("option", { value: "", text: "All rooms" }));
  const sorted = [...roomNames.entries()].sort((a, b) => String(a[1]).localeCompare(String(b[1])));
  for (const [id, name] of sorted) select.append(el("option", { value: id, text: name }));
  select.value = roomNames.has(keep) ? keep : "";
}

function changedFields(e) {
  return String(e.reason || "").split(",").map((f) => f.trim()).filter(Boolean);
}

/* room.update names the changed settings; "locked" and "unlocked" tell the two apart. */
function auditWords(e) {
  if (e.action === "room.update") {
    const fields = changedFields(e);
    if (fields.includes("unlocked")) return "Unlocked the room";
    if (fields.includes("locked")) return "Locked the room";
    return "Changed the room's settings";
  }
  return AUDIT_WORDS[e.action] || e.action || "";
}

function auditReason(e) {
  if (e.action !== "room.update") return e.reason || "";
  const rest = changedFields(e).filter((f) => f !== "locked" && f !== "unlocked");
  return rest.length ? "Changed: " + rest.join(", ") : "";
}

function targetLabel(e) {
  if (!e.target) return "";
  return memberNames.get(e.target) || e.target;
}

async function loadAudit() {
  const room = $("audit-room").value;
  const limit = $("audit-limit").value;
  const query = new URLSearchParams();
  if (room) query.set("room", room);
  query.set("limit", limit);
  const res = await call("GET", "/api/admin/audit?" + query.toString());
  if (!res.ok) {
    if (res.error.code !== "unauthorized") notify("Couldn't load the audit log: " + res.error.message, "error");
    return;
  }
  const entries = res.data && Array.isArray(res.data.entries) ? res.data.entries : [];
  const body = $("audit-rows");
  clear(body);
  for (const e of entries) {
    body.append(
      el(
        "tr",
        { dataset: { action: e.action || "" } },
        el("td", { text: typeof e.ts === "number" ? formatDateTime(e.ts) : "" }),
        el("td", { dir: "auto", text: e.actor || "" }),
        el("td", { class: "audit-action" }, auditWords(e), el("span", { class: "audit-id", text: e.action || "" })),
        el("td", { dir: "auto", text: e.room ? roomLabel(e.room) : "" }),
        el("td", { dir: "auto", text: targetLabel(e) }),
        el("td", { dir: "auto", text: auditReason(e) }),
      ),
    );
  }
  $("audit-empty").hidden = entries.length > 0;
}

// ---------------------------------------------------------------- staff

async function loadStaff() {
  const res = await call("GET", "/api/admin/staff");
  if (!res.ok) {
    if (res.error.code !== "unauthorized") notify("Couldn't load staff: " + res.error.message, "error");
    return;
  }
  const staff = res.data && Array.isArray(res.data.staff) ? res.data.staff : [];
  const list = $("staff-list");
  clear(list);
  for (const s of staff) {
    const self = session && s.name === session.identity.pseudonym;
    list.append(
      el(
        "li",
        { class: "card staff-item", dataset: { staffName: s.name } },
        el("strong", { class: "staff-name", text: s.name }),
        el("span", { class: "badge", text: s.role }),
        self ? el("span", { class: "you-tag", text: "(you)" }) : null,
        " ",
        self
          ? null
          : el("button", {
              type: "button",
              class: "button-small button-danger",
              dataset: { action: "remove-staff" },
              "aria-label": "Remove staff account " + s.name,
              text: "Remove",
              on: { click: () => removeStaff(s.name) },
            }),
      ),
    );
  }
}

async function addStaff(event) {
  event.preventDefault();
  const name = $("staff-add-name").value.trim();
  const role = $("staff-add-role").value;
  const password = $("staff-add-password").value;
  if (!name || !password) {
    notify("Please give a name and a password.", "error");
    return;
  }
  const res = await call("POST", "/api/admin/staff", { name, role, password });
  if (!res.ok) {
    if (res.error.code === "conflict") notify("There is already a staff account named " + name + ".", "error");
    else if (res.error.code !== "unauthorized") notify("Couldn't add staff: " + res.error.message, "error");
    return;
  }
  $("staff-add-name").value = "";
  $("staff-add-password").value = "";
  notify("Added " + name + " as " + role + ".", "success");
  loadStaff();
}

async function removeStaff(name) {
  const sure = await confirmDialog({
    title: "Remove " + name + "?",
    text: "Their sign-ins stop working at once and their open pages are disconnected.",
    confirm: "Remove",
    danger: true,
  });
  if (!sure) return;
  const res = await call("DELETE", "/api/admin/staff/" + encodeURIComponent(name));
  if (!res.ok) {
    if (res.error.code !== "unauthorized") notify("Couldn't remove " + name + ": " + res.error.message, "error");
    return;
  }
  notify("Removed " + name + ".", "success");
  loadStaff();
}

// ---------------------------------------------------------------- rooms

function ttlSelect(id, value) {
  const select = el("select", { id });
  const choices = TTL_CHOICES.includes(value) || value === undefined ? TTL_CHOICES : [...TTL_CHOICES, value].sort((a, b) => a - b);
  for (const s of choices) {
    select.append(el("option", { value: String(s), text: humanDuration(s), selected: s === (value === undefined ? 86400 : value) }));
  }
  return select;
}

async function loadRooms() {
  const res = await call("GET", "/api/rooms");
  if (!res.ok) {
    if (res.error.code !== "unauthorized") notify("Couldn't load rooms: " + res.error.message, "error");
    return;
  }
  const rooms = res.data && Array.isArray(res.data.rooms) ? res.data.rooms : [];
  for (const room of rooms) roomNames.set(room.id, room.name);
  const list = $("rooms");
  clear(list);
  for (const room of rooms.sort((a, b) => String(a.name).localeCompare(String(b.name)))) list.append(renderRoom(room));
  $("rooms-empty").hidden = rooms.length > 0;
}

function renderRoom(room) {
  const p = "room-" + room.id + "-";
  const field = (label, input, cls) => el("div", { class: "field" + (cls ? " " + cls : "") }, el("label", { for: input.id, text: label }), input);
  const topic = el("input", { id: p + "topic", type: "text", value: room.topic || "" });
  const ttl = ttlSelect(p + "ttl", room.message_ttl_s);
  const slow = el("input", { id: p + "slow", type: "number", min: "0", step: "1", value: String(room.slow_mode_s || 0) });
  const capacity = el("input", { id: p + "capacity", type: "number", min: "1", step: "1", value: room.capacity === null || room.capacity === undefined ? "" : String(room.capacity) });
  const locked = el("input", { id: p + "locked", type: "checkbox" });
  locked.checked = !!room.locked;
  const choice = (id, value, options) => {
    const select = el("select", { id }, ...options.map(([v, t]) => el("option", { value: v, text: t })));
    select.value = value;
    return select;
  };
  // Version 1.1 entry settings (docs/PROTOCOL.md rules 24, 25 and 31).
  const admission = choice(p + "admission", room.admission || "open", [["open", "Open"], ["approval", "Staff admit each person"]]);
  const minAge = el("input", { id: p + "min-age", type: "number", min: "0", max: "604800", step: "1", value: String(room.min_identity_age_s || 0) });
  const unattended = choice(p + "unattended", room.unattended || "open", [["open", "Open"], ["slow", "Slow"], ["read_only", "Read only"]]);
  const save = async () => {
    const body = {
      topic: topic.value.trim(),
      message_ttl_s: Number(ttl.value),
      slow_mode_s: Number(slow.value) || 0,
      capacity: capacity.value === "" ? null : Number(capacity.value),
      locked: locked.checked,
      admission: admission.value,
      min_identity_age_s: Number(minAge.value) || 0,
      unattended: unattended.value,
    };
    const res = await call("PATCH", "/api/rooms/" + encodeURIComponent(room.id), body);
    if (!res.ok) {
      if (res.error.code !== "unauthorized") notify("Couldn't save " + room.name + ": " + res.error.message, "error");
      return;
    }
    notify("Saved " + room.name + ".", "success");
    loadRooms();
  };
  const remove = async () => {
    const sure = await confirmDialog({
      title: "Delete " + room.name + "?",
      text: "Everyone in it is removed and its whole history is destroyed. This can't be undone.",
      confirm: "Delete room",
      danger: true,
    });
    if (!sure) return;
    const res = await call("DELETE", "/api/rooms/" + encodeURIComponent(room.id));
    if (!res.ok) {
      if (res.error.code !== "unauthorized") notify("Couldn't delete " + room.name + ": " + res.error.message, "error");
      return;
    }
    notify("Deleted " + room.name + ".", "success");
    loadRooms();
  };
  const n = Number(room.members) || 0;
  return el(
    "li",
    { class: "card room-card", dataset: { roomId: room.id } },
    el(
      "div",
      { class: "card-head" },
      el("strong", { class: "room-card-name", text: room.name }),
      el("span", { text: "id: " + room.id }),
      el("span", { text: (n === 1 ? "1 person" : n + " people") + " online" }),
      room.locked ? el("span", { class: "indicator indicator-warn", text: "Locked" }) : null,
    ),
    el(
      "div",
      { class: "room-edit" },
      field("Topic", topic),
      field("Messages disappear after", ttl),
      field("Slow mode (s)", slow),
      field("Capacity", capacity),
      field("Locked", locked, "checkbox"),
      field("Entry", admission),
      field("New names may write after (s)", minAge),
      field("Without staff", unattended),
      el("button", { type: "button", dataset: { action: "save" }, text: "Save", on: { click: save } }),
      el("button", { type: "button", class: "button-danger", dataset: { action: "delete" }, text: "Delete", on: { click: remove } }),
    ),
    roomSafetyEditor(room, call, notify),
  );
}

async function createRoom(event) {
  event.preventDefault();
  const name = $("room-create-name").value.trim();
  if (!name) {
    notify("Please give the room a name.", "error");
    return;
  }
  const body = { name };
  const id = $("room-create-id").value.trim();
  const topic = $("room-create-topic").value.trim();
  const slow = Number($("room-create-slow").value) || 0;
  const capacity = $("room-create-capacity").value;
  if (id) body.id = id;
  if (topic) body.topic = topic;
  body.message_ttl_s = Number($("room-create-ttl").value);
  if (slow) body.slow_mode_s = slow;
  if (capacity !== "") body.capacity = Number(capacity);
  const res = await call("POST", "/api/rooms", body);
  if (!res.ok) {
    if (res.error.code === "conflict") notify("A room with that id already exists.", "error");
    else if (res.error.code !== "unauthorized") notify("Couldn't create the room: " + res.error.message, "error");
    return;
  }
  for (const f of ["room-create-name", "room-create-id", "room-create-topic", "room-create-capacity"]) $(f).value = "";
  $("room-create-slow").value = "0";
  notify("Created " + (res.data && res.data.name ? res.data.name : name) + ".", "success");
  loadRooms();
}

// ---------------------------------------------------------------- wiring

function init() {
  wireNoticeClose();
  const ttl = ttlSelect("room-create-ttl", 86400);
  $("room-create-ttl").replaceWith(ttl);
  $("login-form").addEventListener("submit", login);
  $("logout-button").addEventListener("click", () => signOut(null));
  $("not-admin-logout").addEventListener("click", () => signOut(null));
  for (const tab of ["flags", "audit", "staff", "rooms"]) {
    $("tab-" + tab).addEventListener("click", () => selectTab(tab));
  }
  $("flag-status").addEventListener("change", (e) => {
    flagStatus = e.target.value;
    loadFlags();
  });
  $("flags-refresh").addEventListener("click", loadFlags);
  $("audit-form").addEventListener("submit", (e) => {
    e.preventDefault();
    loadAudit();
  });
  $("staff-add-form").addEventListener("submit", addStaff);
  $("room-create-form").addEventListener("submit", createRoom);
  // Arrow keys move between tabs, as in the WAI-ARIA tabs pattern.
  document.querySelector(".tabs").addEventListener("keydown", (e) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const tabs = ["flags", "audit", "staff", "rooms"];
    const now = tabs.findIndex((t) => $("tab-" + t).getAttribute("aria-selected") === "true");
    const next = tabs[(now + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    selectTab(next);
    $("tab-" + next).focus();
  });
  start();
}

init();
