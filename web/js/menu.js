/* Pop-up menus (the WAI-ARIA menu button pattern): a trigger with aria-haspopup="menu" opens a
 * role="menu" list of items; arrow keys, Home and End move, Escape or Tab closes, focus goes
 * back to the trigger. One menu is open at a time.
 *
 * An item: {label, action, run, danger?, checked? (a checkbox item), disabled?}; a group:
 * {group: "Reactions", items: [...]}; {separator: true}. `action` becomes data-action. */

import { el } from "./dom.js";

let open = null; // {menu, trigger, onClose, host}

export function isMenuOpen() {
  return !!open;
}

export function closeMenu({ focusTrigger = true } = {}) {
  if (!open) return;
  const { menu, trigger, onClose, host } = open;
  open = null;
  menu.remove();
  trigger.setAttribute("aria-expanded", "false");
  if (host) host.classList.remove("menu-open");
  document.removeEventListener("pointerdown", onOutside, true);
  window.removeEventListener("resize", onViewportChange);
  if (focusTrigger && trigger.isConnected) trigger.focus();
  if (onClose) onClose();
}

function onOutside(e) {
  if (open && !open.menu.contains(e.target) && !open.trigger.contains(e.target)) closeMenu({ focusTrigger: false });
}

function onViewportChange() {
  closeMenu({ focusTrigger: false });
}

function itemNode(item) {
  const checkbox = item.checked !== undefined;
  const node = el("button", {
    type: "button",
    role: checkbox ? "menuitemcheckbox" : "menuitem",
    "aria-checked": checkbox ? (item.checked ? "true" : "false") : null,
    tabindex: "-1",
    class: item.danger ? "menu-danger" : null,
    disabled: item.disabled || null,
    dataset: item.action ? { action: item.action } : undefined,
    text: item.label,
  });
  node.addEventListener("click", () => {
    closeMenu();
    item.run();
  });
  return node;
}

/* Open a menu under (or above) `trigger`. host: an element marked .menu-open while the menu is
 * open. The menu itself lives at the end of <main>, so a re-rendered list does not take it away. */
export function openMenu(trigger, entries, { label, host, onClose, focusLast } = {}) {
  const wasOpenHere = open && open.trigger === trigger;
  closeMenu({ focusTrigger: false });
  if (wasOpenHere) return;
  const menu = el("div", { class: "menu", role: "menu", "aria-label": label || null });
  for (const entry of entries) {
    if (!entry) continue;
    if (entry.separator) menu.append(el("div", { role: "separator" }));
    else if (entry.group) {
      const items = entry.items.filter(Boolean);
      if (!items.length) continue;
      menu.append(
        el(
          "div",
          { role: "group", "aria-label": entry.group },
          el("div", { class: "menu-label", "aria-hidden": "true", text: entry.group }),
          ...items.map(itemNode),
        ),
      );
    } else menu.append(itemNode(entry));
  }
  const items = () => [...menu.querySelectorAll('[role^="menuitem"]:not([disabled])')];
  if (!items().length) return;
  menu.addEventListener("keydown", (e) => {
    const list = items();
    const at = list.indexOf(document.activeElement);
    let next = null;
    if (e.key === "ArrowDown") next = list[(at + 1) % list.length];
    else if (e.key === "ArrowUp") next = list[(at - 1 + list.length) % list.length];
    else if (e.key === "Home") next = list[0];
    else if (e.key === "End") next = list[list.length - 1];
    else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      closeMenu();
      return;
    } else if (e.key === "Tab") {
      closeMenu({ focusTrigger: false });
      trigger.focus();
      return;
    } else if (e.key.length === 1 && /\S/.test(e.key)) {
      const k = e.key.toLowerCase();
      const from = list.slice(at + 1).concat(list.slice(0, at + 1));
      next = from.find((n) => n.textContent.trim().toLowerCase().startsWith(k)) || null;
    }
    if (next) {
      e.preventDefault();
      next.focus();
    }
  });
  (document.getElementById("main") || document.body).append(menu);
  open = { menu, trigger, onClose, host };
  if (host) host.classList.add("menu-open");
  trigger.setAttribute("aria-expanded", "true");
  place(menu, trigger);
  document.addEventListener("pointerdown", onOutside, true);
  window.addEventListener("resize", onViewportChange);
  const list = items();
  (focusLast ? list[list.length - 1] : list[0]).focus();
}

function place(menu, trigger) {
  const r = trigger.getBoundingClientRect();
  const vw = document.documentElement.clientWidth;
  const vh = window.innerHeight;
  const m = menu.getBoundingClientRect();
  let left = r.right - m.width;
  if (left < 8) left = Math.min(r.left, vw - m.width - 8);
  left = Math.max(8, Math.min(left, vw - m.width - 8));
  let top = r.bottom + 4;
  if (top + m.height > vh - 8) top = Math.max(8, r.top - m.height - 4);
  menu.style.left = left + "px";
  menu.style.top = top + "px";
}
