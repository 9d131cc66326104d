/* The fixed set of supportive reactions (docs/PROTOCOL.md, "Extensions"). They expire with
 * their message. */

import { el } from "./dom.js";

export const REACTIONS = [
  ["hear_you", "I hear you"],
  ["me_too", "Me too"],
  ["thank_you", "Thank you"],
  ["strength", "Sending strength"],
  ["not_alone", "You're not alone"],
];

export const REACTION_LABEL = new Map(REACTIONS);

/* The chips under a message: one toggle button per reaction someone gave. */
export function reactionChips(msg, mine, onToggle) {
  const counts = msg.reactions && typeof msg.reactions === "object" ? msg.reactions : {};
  const chips = [];
  for (const [kind, label] of REACTIONS) {
    const n = Number(counts[kind]) || 0;
    if (n <= 0) continue;
    const pressed = mine.has(kind);
    chips.push(
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: "reaction",
            "aria-pressed": pressed ? "true" : "false",
            dataset: { reaction: kind },
            title: n === 1 ? "1 person" : n + " people",
            on: { click: () => onToggle(kind, !pressed) },
          },
          label,
          el("span", { class: "reaction-count", text: String(n) }),
        ),
      ),
    );
  }
  return chips;
}
