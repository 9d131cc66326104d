/* The page's one notice line (#notice, a polite live region). kind: info | success | warn | error.
 *
 * A notice may name its cause ({cause: "send"}); clearNotice(cause) takes it away once that
 * cause is gone (the next send worked, the connection is back), and leaves other notices be.
 * Good news (info, success) fades by itself after a while; warnings and errors stay until
 * their cause goes or the person dismisses them. */

import { $ } from "./dom.js";

const FADE_MS = 8000;
let shownCause = null;
let fadeTimer = null;

export function notify(text, kind, { cause } = {}) {
  const box = $("notice");
  const bar = $("notice-bar");
  if (!box) return;
  // Replacing the text node makes screen readers announce even a repeated notice.
  box.textContent = "";
  box.appendChild(document.createTextNode(text));
  shownCause = cause || null;
  if (bar) {
    bar.hidden = false;
    bar.className = "notice-bar notice-" + (kind || "info");
  }
  window.clearTimeout(fadeTimer);
  fadeTimer = null;
  if (kind === "info" || kind === "success" || !kind) {
    const shown = box.firstChild;
    fadeTimer = window.setTimeout(() => {
      if (box.firstChild === shown) clearNotice();
    }, FADE_MS);
  }
}

/* Without a cause: clear whatever is shown. With one: clear only a notice of that cause. */
export function clearNotice(cause) {
  if (cause !== undefined && cause !== shownCause) return;
  const box = $("notice");
  const bar = $("notice-bar");
  if (box) box.textContent = "";
  if (bar) bar.hidden = true;
  shownCause = null;
  window.clearTimeout(fadeTimer);
  fadeTimer = null;
}

export function wireNoticeClose() {
  const close = $("notice-close");
  if (close) close.addEventListener("click", () => clearNotice());
}
