/* The member list of the room on screen, and each member's menu of actions.
 *
 * Feature modules add items to the member menu with addMemberAction(); the moderation items
 * below are registered the same way. */

import { emit } from "./bus.js";
import { serverNow } from "./clock.js";
import { updateComposer } from "./composer.js";
import { onServer, request } from "./connection.js";
import { $, clear, el } from "./dom.js";
import { describeError } from "./errors.js";
import { formatDateTime, formatTime, formatWhen, humanDuration, timeLeft } from "./format.js";
import { isStaff, myRole } from "./identity.js";
import { openMenu } from "./menu.js";
import { clearNotice, notify } from "./notice.js";
import { here, isHere, isMe, setMyMute } from "./room-state.js";
import { isStaffRole } from "./session.js";

const memberActions = [];

/* An item in every member's menu: {action, label, run(member), visible?(member), danger?}.
 * visible() decides per member (and per viewer: use isStaff()/myRole() from identity.js). */
export function addMemberAction(action) {
  memberActions.push(action);
}

function actionsFor(m) {
  return memberActions.filter((a) => !a.visible || a.visible(m));
}

export function renderMembers() {
  const list = $("members");
  const focused = document.activeElement;
  const row = focused && list.contains(focused) ? focused.closest("[data-member-id]") : null;
  const refocus = row ? row.dataset.memberId : null;
  clear(list);
  const current = here();
  const n = current ? current.members.size : 0;
  $("member-count").textContent = current ? "(" + n + ")" : "";
  $("members-button-count").textContent = current ? "(" + n + ")" : "";
  if (!current) return;
  const me = current.you ? current.you.id : null;
  const all = [...current.members.values()].sort((a, b) => {
    if (a.id === me) return -1;
    if (b.id === me) return 1;
    return String(a.pseudonym).localeCompare(String(b.pseudonym));
  });
  for (const m of all) {
    const mutedUntil = current.muted.has(m.id) ? current.muted.get(m.id) : undefined;
    const item = el(
      "li",
      { class: "member" + (m.id === me ? " me" : ""), dataset: { memberId: m.id, testid: "member" } },
      el(
        "div",
        { class: "member-line" },
        el("span", { class: "member-name", dir: "auto", title: m.pseudonym, text: m.pseudonym }),
        isStaffRole(m.role) ? el("span", { class: "badge", text: m.role }) : null,
        m.id === me ? el("span", { class: "you-tag", text: "(you)" }) : null,
        mutedUntil !== undefined
          ? el("span", { class: "muted-tag", text: mutedUntil ? "muted until " + formatTime(mutedUntil) : "muted" })
          : null,
      ),
    );
    if (m.id !== me && actionsFor(m).length) {
      const button = el("button", {
        type: "button",
        class: "button-quiet member-menu-button",
        "aria-haspopup": "menu",
        "aria-expanded": "false",
        "aria-label": "Actions for " + m.pseudonym,
        dataset: { testid: "member-menu" },
        text: "Actions",
      });
      button.addEventListener("click", () => openMemberMenu(m, button, item));
      item.append(button);
    }
    list.append(item);
  }
  if (refocus) {
    const again = list.querySelector('[data-member-id="' + CSS.escape(refocus) + '"] button');
    if (again) again.focus();
  }
}

function openMemberMenu(m, button, item) {
  const items = actionsFor(m).map((a) => ({ label: a.label, action: a.action, danger: a.danger, run: () => a.run(m) }));
  openMenu(button, items, { label: "Actions for " + m.pseudonym, host: item });
}

// ---------------------------------------------------------------- moderation

function canModerate(m) {
  return isStaff() && !isMe(m.id) && (!isStaffRole(m.role) || myRole() === "admin");
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
  emit("members:changed");
  notify(
    m.pseudonym + " was removed" + (ack.banned_until ? " and can't come back until " + formatDateTime(ack.banned_until) : "") + ".",
    "success",
  );
}

const isMuted = (m) => !!here() && here().muted.has(m.id);
addMemberAction({ action: "unmute", label: "Unmute", visible: (m) => canModerate(m) && isMuted(m), run: unmute });
addMemberAction({ action: "mute-300", label: "Mute for 5 minutes", visible: canModerate, run: (m) => mute(m, 300) });
addMemberAction({ action: "mute-3600", label: "Mute for 1 hour", visible: canModerate, run: (m) => mute(m, 3600) });
addMemberAction({ action: "mute", label: "Mute until unmuted", visible: canModerate, run: (m) => mute(m, null) });
addMemberAction({ action: "remove", label: "Remove from the room", visible: canModerate, danger: true, run: (m) => removeMember(m, null) });
addMemberAction({
  action: "ban-86400",
  label: "Remove and ban for 24 hours",
  visible: canModerate,
  danger: true,
  run: (m) => removeMember(m, 86400),
});

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
    notify(head + " You can still read the conversation." + (p.reason ? " Reason: " + p.reason : ""), "warn", { cause: "mute" });
    updateComposer();
  }
});

onServer("member:unmuted", (p) => {
  if (!p || !isHere(p.room)) return;
  here().muted.delete(p.member_id);
  renderMembers();
  if (isMe(p.member_id)) {
    setMyMute(null);
    clearNotice("mute");
    notify("You've been unmuted. You can send messages again.", "success");
    updateComposer();
  }
});
