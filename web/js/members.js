/* The member list of the room on screen, and each member's menu of actions.
 *
 * Feature modules add items to the member menu with addMemberAction(); the moderation items
 * below are registered the same way. */

import { emit, on } from "./bus.js";
import { serverNow } from "./clock.js";
import { updateComposer } from "./composer.js";
import { onServer } from "./connection.js";
import { $, clear, el } from "./dom.js";
import { formatTime, formatWhen, timeLeft } from "./format.js";
import { canModerate, memberMarks, memberMenu } from "./moderation-menu.js";
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
        memberMarks(m),
      ),
    );
    if (canModerate(m, me)) item.append(memberMenu(m, mutedUntil !== undefined));
    list.append(item);
  }
  if (refocus) {
    const again = list.querySelector('[data-member-id="' + CSS.escape(refocus) + '"] button');
    if (again) again.focus();
  }
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

on("moderation:changed", renderMembers);

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
