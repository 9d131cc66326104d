/* Moderation on the chat page (docs/PROTOCOL.md, version 1.1 rules 24-28):
 * staff: one compact menu per member, a reason and a confirmation before remove and ban,
 *        the waiting list with admit and deny, alerts for returning members, room entry settings;
 * peers: the reason of a warning or a removal, and what happens next. */

import { emit, on } from "./bus.js";
import { onServer, request } from "./connection.js";
import { $, clear, el } from "./dom.js";
import { describeError } from "./errors.js";
import { formatDateTime, humanDuration } from "./format.js";
import { isStaff, myRole, staffSession } from "./identity.js";
import { api } from "./net.js";
import { notify } from "./notice.js";
import { here, isHere } from "./room-state.js";

const BAN_CHOICES = [
  [3600, "1 hour"],
  [86400, "24 hours"],
  [7 * 86400, "7 days"],
  [30 * 86400, "30 days"],
];
const waiting = new Map(); // room id -> Map(member id -> Member)
const related = new Map(); // member id -> sanctioned member id (rule 26 alerts), room on screen only
let waitingFor = null; // the room this peer waits to enter: told once, not at each new ask

/* ---------------------------------------------------------------- the member menu */

/* The menu for one member (staff only). muted: whether that member is muted now. */
export function memberMenu(m, muted) {
  const item = (action, label, fn, cls) =>
    el("button", {
      type: "button",
      role: "menuitem",
      class: "menu-item " + (cls || ""),
      dataset: { action },
      text: label,
      on: {
        click: (e) => {
          e.currentTarget.closest("details").open = false;
          fn();
        },
      },
    });
  return el(
    "details",
    { class: "member-menu", dataset: { testid: "member-menu", memberId: m.id } },
    el("summary", { "aria-label": "Actions for " + m.pseudonym, text: "Actions" }),
    el(
      "div",
      { class: "menu-items", role: "menu" },
      item("mute-300", "Mute 5 min", () => mute(m, 300)),
      item("mute-3600", "Mute 1 h", () => mute(m, 3600)),
      item("mute", "Mute until lifted", () => mute(m, null)),
      muted ? item("unmute", "Unmute", () => unmute(m)) : null,
      item("warn", "Warn…", () => openDialog(m, "warn")),
      item("remove", "Remove…", () => openDialog(m, "remove"), "button-danger"),
      item("ban", "Remove and ban…", () => openDialog(m, "ban"), "button-danger"),
    ),
  );
}

async function mute(m, duration) {
  const current = here();
  if (!current) return;
  const payload = { room: current.room.id, member: m.id };
  if (duration) payload.duration_s = duration;
  const ack = await request("mod:mute", payload);
  if (!ack.ok) return notify(describeError(ack.error, "mod"), "error");
  if (here()) here().muted.set(m.id, ack.until === undefined ? null : ack.until);
  emit("moderation:changed");
  notify(m.pseudonym + (duration ? " is muted for " + humanDuration(duration) + "." : " is muted until you lift it."), "success");
}

async function unmute(m) {
  const current = here();
  if (!current) return;
  const ack = await request("mod:unmute", { room: current.room.id, member: m.id });
  if (!ack.ok) return notify(describeError(ack.error, "mod"), "error");
  if (here()) here().muted.delete(m.id);
  emit("moderation:changed");
  notify(m.pseudonym + " can send messages again.", "success");
}

/* One dialog for warn, remove and ban: a reason (or the warning), a duration for a ban, a confirmation. */
function dialog() {
  let d = $("moderation-dialog");
  if (d) return d;
  d = el(
    "dialog",
    { id: "moderation-dialog", class: "dialog", dataset: { testid: "moderation-dialog" }, "aria-labelledby": "moderation-title" },
    el(
      "form",
      { method: "dialog", class: "stack", id: "moderation-form" },
      el("h2", { id: "moderation-title" }),
      el("p", { id: "moderation-explain", class: "hint" }),
      el("label", { for: "moderation-text", id: "moderation-label" }),
      el("textarea", { id: "moderation-text", rows: "3", maxlength: "500", dataset: { testid: "moderation-reason" } }),
      el(
        "div",
        { id: "moderation-ban-row" },
        el("label", { for: "moderation-ban", text: "Ban for" }),
        el("select", { id: "moderation-ban" }, ...BAN_CHOICES.map(([s, t]) => el("option", { value: String(s), text: t }))),
      ),
      el(
        "div",
        { class: "dialog-buttons" },
        el("button", { type: "button", id: "moderation-cancel", text: "Cancel", on: { click: () => d.close() } }),
        el("button", { type: "submit", id: "moderation-confirm", class: "button-primary", dataset: { testid: "moderation-confirm" } }),
      ),
    ),
  );
  document.body.append(d);
  return d;
}

function openDialog(m, kind) {
  const d = dialog();
  const text = $("moderation-text");
  text.value = "";
  $("moderation-ban-row").hidden = kind !== "ban";
  const words = {
    warn: ["Warn " + m.pseudonym, "Only " + m.pseudonym + " will see this warning.", "Warning (1 to 500 characters)", "Send warning"],
    remove: ["Remove " + m.pseudonym + "?", "They can join again later. They will see your reason.", "Reason (optional, shown to them)", "Remove"],
    ban: ["Remove and ban " + m.pseudonym + "?", "They can't come back until the ban ends. They will see your reason.", "Reason (optional, shown to them)", "Remove and ban"],
  }[kind];
  $("moderation-title").textContent = words[0];
  $("moderation-explain").textContent = words[1];
  $("moderation-label").textContent = words[2];
  $("moderation-confirm").textContent = words[3];
  $("moderation-form").onsubmit = async (e) => {
    e.preventDefault();
    const value = text.value.trim();
    if (kind === "warn" && !value) return text.focus();
    d.close();
    if (kind === "warn") await warn(m, value);
    else await removeMember(m, kind === "ban" ? Number($("moderation-ban").value) : null, value || null);
  };
  d.showModal();
  text.focus();
}

async function warn(m, text) {
  const current = here();
  if (!current) return;
  const ack = await request("mod:warn", { room: current.room.id, member: m.id, text });
  if (!ack.ok) return notify(describeError(ack.error, "mod"), "error");
  notify("Your warning reached " + m.pseudonym + " only.", "success");
}

async function removeMember(m, banSeconds, reason) {
  const current = here();
  if (!current) return;
  const payload = { room: current.room.id, member: m.id };
  if (banSeconds) payload.ban_s = banSeconds;
  if (reason) payload.reason = reason;
  const ack = await request("mod:remove", payload);
  if (!ack.ok) return notify(describeError(ack.error, "mod"), "error");
  if (here()) here().members.delete(m.id);
  emit("moderation:changed");
  notify(m.pseudonym + " was removed" + (ack.banned_until ? " until " + formatDateTime(ack.banned_until) : "") + ".", "success");
}

/* Marks next to a member: the sanctioned member a returning member appears to be. */
export function memberMarks(m) {
  const of = related.get(m.id);
  const current = here();
  if (!of || !current) return null;
  const other = current.members.get(of);
  return el("span", {
    class: "related-tag",
    dataset: { testid: "related-member", related: of },
    text: "same network as " + (other ? other.pseudonym : "a sanctioned member"),
  });
}

/* ---------------------------------------------------------------- waiting room (staff) */

function waitingPanel() {
  let panel = $("waiting-panel");
  if (panel) return panel;
  panel = el(
    "section",
    { id: "waiting-panel", class: "waiting-panel", dataset: { testid: "waiting-list" }, "aria-labelledby": "waiting-title", hidden: true },
    el("h3", { id: "waiting-title", text: "Waiting to join" }),
    el("ul", { id: "waiting-members", class: "members" }),
  );
  const aside = $("members") && $("members").parentElement;
  if (aside) aside.prepend(panel);
  return panel;
}

function renderWaiting() {
  const panel = waitingPanel();
  const list = $("waiting-members");
  clear(list);
  const current = here();
  const pending = current && isStaff() ? waiting.get(current.room.id) : null;
  panel.hidden = !pending || pending.size === 0;
  if (!pending) return;
  for (const m of pending.values()) {
    const decide = async (event, extra) => {
      const ack = await request(event, { room: current.room.id, member: m.id, ...extra });
      if (!ack.ok) return notify(describeError(ack.error, "mod"), "error");
      pending.delete(m.id);
      renderWaiting();
    };
    list.append(
      el(
        "li",
        { class: "member waiting", dataset: { testid: "waiting-member", memberId: m.id } },
        el("span", { class: "member-name", text: m.pseudonym }),
        el("button", { type: "button", class: "button-small", dataset: { action: "admit" }, text: "Admit", on: { click: () => decide("mod:admit", {}) } }),
        el("button", { type: "button", class: "button-small button-danger", dataset: { action: "deny" }, text: "Deny", on: { click: () => decide("mod:deny", {}) } }),
      ),
    );
  }
}

onServer("member:waiting", (p) => {
  if (!p || !p.member) return;
  if (!waiting.has(p.room)) waiting.set(p.room, new Map());
  waiting.get(p.room).set(p.member.id, p.member);
  renderWaiting();
  if (isHere(p.room)) notify(p.member.pseudonym + " is waiting to join.", "info");
});

onServer("member:joined", (p) => {
  if (p && p.member && waiting.has(p.room)) {
    waiting.get(p.room).delete(p.member.id);
    renderWaiting();
  }
});

/* ---------------------------------------------------------------- alerts (staff) */

onServer("mod:alert", (p) => {
  if (!p || p.kind !== "returning" || !p.member) return;
  related.set(p.member.id, p.related_member);
  const box = el(
    "div",
    { class: "alert alert-returning", role: "alert", dataset: { testid: "returning-alert", member: p.member.id, related: p.related_member || "" } },
    el("strong", { text: "Possible returning member: " }),
    p.member.pseudonym + " joined from the same network as a member who is muted or banned here. " +
      "They can read but not write until that sanction ends. Unmute them if this is someone else.",
    el("button", { type: "button", class: "button-small button-quiet", text: "Dismiss", on: { click: () => box.remove() } }),
  );
  const view = $("room-view");
  if (view && isHere(p.room)) view.prepend(box);
  else notify(p.member.pseudonym + " may be a sanctioned member returning (room " + p.room + ").", "warn");
  emit("moderation:changed");
});

/* ---------------------------------------------------------------- what a peer is told */

function personalNotice(testid, title, lines) {
  const old = $("moderation-notice");
  if (old) old.remove();
  const box = el(
    "div",
    { id: "moderation-notice", class: "alert alert-personal", role: "alert", dataset: { testid } },
    el("strong", { text: title }),
    ...lines.filter(Boolean).map((line) => el("p", { text: line })),
    el("button", { type: "button", class: "button-small button-quiet", text: "OK", on: { click: () => box.remove() } }),
  );
  const main = $("main");
  if (main) main.prepend(box);
}

onServer("member:warned", (p) => {
  if (!p) return;
  personalNotice("warning", "A facilitator sent you a warning", [
    p.text,
    "Only you can see this. You can keep taking part; please keep to the room's guidelines.",
  ]);
});

/* room.js tells of room:removed ({...payload, name, onScreen}) before it leaves the room's view. */
on("room:removed", (p) => {
  if (!p || p.reason === "room_deleted") return;
  waitingFor = null;
  const next = p.banned_until
    ? "You can come back after " + formatDateTime(p.banned_until) + "."
    : p.reason === "denied"
      ? "You may ask to join again later."
      : "You may join again.";
  const denied = p.reason === "denied" || p.denied;
  // A room kept joined but not on screen is named: "this room" would be the one being read.
  const title = denied
    ? "You weren't let into this room"
    : p.onScreen
      ? "You were removed from this room"
      : "You were removed from " + p.name;
  personalNotice("removed-reason", title, [
    p.reason && p.reason !== "removed" && p.reason !== "denied" ? "Reason: " + p.reason : null,
    next,
  ]);
});

onServer("room:admitted", (p) => {
  if (!p) return;
  waitingFor = null;
  notify("You've been let in. Joining now…", "success");
  emit("rejoin", p.room);
});

on("room:waiting", (roomId) => {
  if (waitingFor === roomId) return;
  waitingFor = roomId;
  personalNotice("waiting", "Waiting for a facilitator", [
    "This room lets people in one by one. A facilitator has been told you're here and will let you in shortly; " +
      "if none is in the room yet, the first to arrive will see you waiting.",
  ]);
});

on("room:joined", () => {
  waitingFor = null;
});

/* ---------------------------------------------------------------- room entry settings (staff) */

function settingsControls() {
  let box = $("entry-settings");
  if (box) return box;
  const select = (id, label, options) => [
    el("label", { for: id, text: label }),
    el("select", { id, dataset: { setting: id.replace("setting-", "") } }, ...options.map(([v, t]) => el("option", { value: v, text: t }))),
  ];
  box = el(
    "span",
    { id: "entry-settings", class: "entry-settings" },
    ...select("setting-admission", "Entry", [["open", "Open"], ["approval", "Approval"]]),
    ...select("setting-min_identity_age_s", "New names may write after", [["0", "at once"], ["300", "5 minutes"], ["3600", "1 hour"], ["86400", "1 day"]]),
    ...select("setting-unattended", "Without staff", [["open", "open"], ["slow", "slow"], ["read_only", "read only"]]),
  );
  box.addEventListener("change", async (e) => {
    const field = e.target.dataset.setting;
    const current = here();
    const staff = staffSession();
    if (!field || !current || !staff) return;
    const value = field === "min_identity_age_s" ? Number(e.target.value) : e.target.value;
    const res = await api("PATCH", "/api/rooms/" + encodeURIComponent(current.room.id), { token: staff.token, body: { [field]: value } });
    if (!res.ok) notify("Couldn't change the room: " + res.error.message, "error");
  });
  const controls = $("room-controls");
  if (controls) controls.append(box);
  return box;
}

function renderSettings() {
  const current = here();
  if (!current || !isStaff()) return;
  settingsControls();
  const room = current.room;
  $("setting-admission").value = room.admission || "open";
  const age = String(room.min_identity_age_s || 0);
  const ageSelect = $("setting-min_identity_age_s");
  if (![...ageSelect.options].some((o) => o.value === age)) ageSelect.append(el("option", { value: age, text: humanDuration(Number(age)) }));
  ageSelect.value = age;
  $("setting-unattended").value = room.unattended || "open";
}

on("room:entered", () => {
  related.clear();
  renderWaiting();
  renderSettings();
});
on("rooms:changed", renderSettings);
on("room:left", () => {
  related.clear();
  renderWaiting();
});

export function canModerate(m, me) {
  const memberIsStaff = m.role === "facilitator" || m.role === "admin";
  return isStaff() && m.id !== me && (!memberIsStaff || myRole() === "admin");
}
