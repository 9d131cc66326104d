/* The member list of the room on screen, and the facilitator's actions on a member. */

import { emit } from "./bus.js";
import { serverNow } from "./clock.js";
import { updateComposer } from "./composer.js";
import { onServer, request } from "./connection.js";
import { $, clear, el } from "./dom.js";
import { describeError } from "./errors.js";
import { formatDateTime, formatTime, formatWhen, humanDuration, timeLeft } from "./format.js";
import { isStaff, myRole } from "./identity.js";
import { notify } from "./notice.js";
import { here, isHere, isMe, setMyMute } from "./room-state.js";
import { isStaffRole } from "./session.js";

export function renderMembers() {
  const list = $("members");
  clear(list);
  const current = here();
  if (!current) return;
  const me = current.you ? current.you.id : null;
  const all = [...current.members.values()].sort((a, b) => {
    if (a.id === me) return -1;
    if (b.id === me) return 1;
    return String(a.pseudonym).localeCompare(String(b.pseudonym));
  });
  for (const m of all) {
    const memberIsStaff = isStaffRole(m.role);
    const mutedUntil = current.muted.has(m.id) ? current.muted.get(m.id) : undefined;
    const item = el(
      "li",
      { class: "member" + (m.id === me ? " me" : ""), dataset: { memberId: m.id, testid: "member" } },
      el(
        "div",
        { class: "member-line" },
        el("span", { class: "member-name", text: m.pseudonym }),
        memberIsStaff ? el("span", { class: "badge", text: m.role }) : null,
        m.id === me ? el("span", { class: "you-tag", text: "(you)" }) : null,
        mutedUntil !== undefined
          ? el("span", { class: "muted-tag", text: mutedUntil ? "muted until " + formatTime(mutedUntil) : "muted" })
          : null,
      ),
    );
    const canAct = isStaff() && m.id !== me && (!memberIsStaff || myRole() === "admin");
    if (canAct) item.append(memberControls(m));
    list.append(item);
  }
  $("member-count").textContent = "(" + all.length + ")";
}

function memberControls(m) {
  const b = (action, label, aria, cls, fn) =>
    el("button", {
      type: "button",
      class: "button-small " + (cls || ""),
      dataset: { action },
      "aria-label": aria + " " + m.pseudonym,
      text: label,
      on: { click: fn },
    });
  return el(
    "div",
    { class: "member-controls", role: "group", "aria-label": "Actions for " + m.pseudonym },
    b("mute-300", "Mute 5 min", "Mute for 5 minutes:", "", () => mute(m, 300)),
    b("mute-3600", "Mute 1 h", "Mute for 1 hour:", "", () => mute(m, 3600)),
    b("mute", "Mute", "Mute until unmuted:", "", () => mute(m, null)),
    b("unmute", "Unmute", "Unmute", "", () => unmute(m)),
    b("remove", "Remove", "Remove from the room:", "button-danger", () => removeMember(m, null)),
    b("ban-86400", "Remove + ban 24 h", "Remove and ban for 24 hours:", "button-danger", () => removeMember(m, 86400)),
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
  renderMembers();
  notify(m.pseudonym + (duration ? " is muted for " + humanDuration(duration) + "." : " is muted until you unmute them."), "success");
}

async function unmute(m) {
  const current = here();
  if (!current) return;
  const ack = await request("mod:unmute", { room: current.room.id, member: m.id });
  if (!ack.ok) return notify(describeError(ack.error, "mod"), "error");
  if (here()) here().muted.delete(m.id);
  renderMembers();
  notify(m.pseudonym + " can send messages again.", "success");
}

async function removeMember(m, banSeconds) {
  const current = here();
  if (!current) return;
  const payload = { room: current.room.id, member: m.id };
  if (banSeconds) payload.ban_s = banSeconds;
  const ack = await request("mod:remove", payload);
  if (!ack.ok) return notify(describeError(ack.error, "mod"), "error");
  if (here()) here().members.delete(m.id);
  renderMembers();
  notify(
    m.pseudonym + " was removed" + (ack.banned_until ? " and can't come back until " + formatDateTime(ack.banned_until) : "") + ".",
    "success",
  );
}

/* Mutes of others end on time (called every second). */
export function expireMutes(now) {
  const current = here();
  if (!current) return;
  let changed = false;
  for (const [id, until] of current.muted) {
    if (typeof until === "number" && now >= until) {
      current.muted.delete(id);
      changed = true;
    }
  }
  if (changed) renderMembers();
}

function changed() {
  renderMembers();
  emit("members:changed");
}

onServer("member:joined", (p) => {
  if (!p || !isHere(p.room) || !p.member) return;
  here().members.set(p.member.id, p.member);
  changed();
});

onServer("member:left", (p) => {
  if (!p || !isHere(p.room)) return;
  if (isMe(p.member_id)) return; // another tab of mine left
  here().members.delete(p.member_id);
  changed();
});

onServer("member:muted", (p) => {
  if (!p || !isHere(p.room)) return;
  const until = p.until === undefined ? null : p.until;
  here().muted.set(p.member_id, until);
  renderMembers();
  if (isMe(p.member_id)) {
    setMyMute({ until });
    const head = until === null
      ? "A facilitator has muted you until they unmute you."
      : "A facilitator has muted you for " + timeLeft(until, serverNow()) + " (until " + formatWhen(until) + ").";
    notify(head + " You can still read the conversation." + (p.reason ? " Reason: " + p.reason : ""), "warn");
    updateComposer();
  }
});

onServer("member:unmuted", (p) => {
  if (!p || !isHere(p.room)) return;
  here().muted.delete(p.member_id);
  renderMembers();
  if (isMe(p.member_id)) {
    setMyMute(null);
    notify("You've been unmuted. You can send messages again.", "success");
    updateComposer();
  }
});
