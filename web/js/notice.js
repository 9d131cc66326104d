/* The page's one notice line (#notice, an aria-live region). kind: info | success | warn | error. */

import { $ } from "./dom.js";

export function notify(text, kind) {
  const box = $("notice");
  const bar = $("notice-bar");
  if (!box) return;
  // Replacing the text node makes screen readers announce even a repeated notice.
  box.textContent = "";
  box.appendChild(document.createTextNode(text));
  if (bar) {
    bar.hidden = false;
    bar.className = "notice-bar notice-" + (kind || "info");
  }
}

export function clearNotice() {
  const box = $("notice");
  const bar = $("notice-bar");
  if (box) box.textContent = "";
  if (bar) bar.hidden = true;
}

export function wireNoticeClose() {
  const close = $("notice-close");
  if (close) close.addEventListener("click", clearNotice);
}
