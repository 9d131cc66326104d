/* Safety on the admin page (docs/SAFETY.md): crisis flags first and marked urgent, help-request
 * flags explained, alerts shown live, and each room's guidelines. */

import { $, el } from "./dom.js";
import { formatDateTime } from "./format.js";

const URGENT = "crisis signal";
const REQUEST = "help request";
const KIND_LABEL = { crisis: "Crisis signal", request: "Help request", returning: "Returning member" };

/* Crisis flags first (newest first among them), then the rest in the server's order. */
export function orderFlags(flags) {
  const urgent = flags.filter((f) => f.reason === URGENT).sort((a, b) => (b.created_at || 0) - (a.created_at || 0));
  return [...urgent, ...flags.filter((f) => f.reason !== URGENT)];
}

export function decorateFlag(flag, item) {
  if (flag.reason === URGENT) {
    item.classList.add("flag-urgent");
    item.dataset.urgent = "true";
    item.prepend(
      el(
        "p",
        { class: "badge badge-urgent", dataset: { testid: "urgent" } },
        "Urgent: someone may be at risk. No facilitator was in the room when they wrote this.",
      ),
    );
  } else if (flag.reason === REQUEST) {
    item.prepend(
      el(
        "p",
        { class: "badge", dataset: { testid: "help-request" } },
        "Help request: a member asked for help while no facilitator was in the room. What they wrote is not kept; " +
          "a facilitator joining the room can reply to them privately.",
      ),
    );
  }
}

function alertsSection() {
  let section = $("admin-alerts");
  if (section) return section;
  section = el(
    "section",
    { id: "admin-alerts", class: "panel alerts-panel", "aria-labelledby": "admin-alerts-title", dataset: { testid: "admin-alerts" } },
    el("h2", { id: "admin-alerts-title", text: "Live alerts" }),
    el("p", { class: "hint", text: "Crisis signals and help requests as they happen, in any room." }),
    el("ol", { id: "admin-alerts-list", class: "alerts-list", "aria-live": "polite" }),
  );
  const flags = $("panel-flags");
  (flags || $("main") || document.body).prepend(section);
  return section;
}

/* mod:alert reaches every connected admin (docs/PROTOCOL.md rule 29). */
export function watchAlerts(socket) {
  socket.on("mod:alert", (alert) => {
    if (!alert || typeof alert !== "object") return;
    alertsSection();
    const who = (alert.member && alert.member.pseudonym) || "A member";
    $("admin-alerts-list").prepend(
      el(
        "li",
        { class: "alert alert-" + alert.kind + (alert.kind === "crisis" ? " urgent" : ""), dataset: { testid: "admin-alert", kind: alert.kind } },
        el("span", { class: "badge" + (alert.kind === "crisis" ? " badge-urgent" : ""), text: KIND_LABEL[alert.kind] || alert.kind }),
        " ",
        el("strong", { text: who }),
        el("span", { class: "hint", text: " in " + alert.room + ", " + formatDateTime(alert.ts) }),
        alert.text ? el("p", { class: "text", text: "“" + alert.text + "”" }) : null,
      ),
    );
  });
}

/* A room's guidelines, saved on their own (the room's other settings have their own Save). */
export function roomSafetyEditor(room, call, notify) {
  const p = "room-" + room.id + "-";
  const guidelines = el("textarea", { id: p + "guidelines", rows: "4", maxlength: "4000", dataset: { testid: "room-guidelines" } });
  guidelines.value = room.guidelines || "";
  const save = async () => {
    const res = await call("PATCH", "/api/rooms/" + encodeURIComponent(room.id), { guidelines: guidelines.value.trim() });
    if (!res.ok) {
      if (res.error.code !== "unauthorized") notify("Couldn't save " + room.name + ": " + res.error.message, "error");
      return;
    }
    const version = res.data && res.data.guidelines_version;
    notify("Saved the guidelines of " + room.name + (version ? " (guidelines version " + version + ")." : "."), "success");
  };
  return el(
    "div",
    { class: "room-edit room-safety" },
    el("div", { class: "field" }, el("label", { for: guidelines.id, text: "Guidelines (shown before a first join)" }), guidelines),
    el("button", { type: "button", dataset: { action: "save-safety" }, text: "Save guidelines", on: { click: save } }),
  );
}
