/* Hearth: helpers shared by the chat page (app.js) and the admin page (admin.js).
 *
 * Rules kept everywhere in web/:
 *  - user text (messages, pseudonyms, room names, topics, reasons) is only ever
 *    put into the page with textContent / createTextNode, never innerHTML;
 *  - no inline scripts or styles (the pages run under a strict CSP).
 */
"use strict";

const Hearth = (() => {
  /* Build an element. attrs: {class, text, dataset: {...}, on: {event: fn}, any other attribute}.
   * children: nodes or strings (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = String(value);
        else if (key === "dataset") Object.assign(node.dataset, value);
        else if (key === "on") {
          for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
        } else if (value === true) node.setAttribute(key, "");
        else node.setAttribute(key, String(value));
      }
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /* localStorage can be unavailable (private modes, blocked storage): never throw. */
  const store = {
    get(key) {
      try {
        const raw = window.localStorage.getItem(key);
        return raw ? JSON.parse(raw) : null;
      } catch (_e) {
        return null;
      }
    },
    set(key, value) {
      try {
        window.localStorage.setItem(key, JSON.stringify(value));
      } catch (_e) {
        /* the session then lasts as long as the page */
      }
    },
    remove(key) {
      try {
        window.localStorage.removeItem(key);
      } catch (_e) {
        /* ignore */
      }
    },
  };

  /* JSON over HTTP. Resolves (never rejects) to {ok, status, data, error}, where
   * error is the server's {code, message, ...} or one made up for network trouble. */
  async function api(method, path, { token, body } = {}) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_e) {
      return {
        ok: false,
        status: 0,
        data: null,
        error: { code: "network", message: "Can't reach Hearth right now. Check your connection and try again." },
      };
    }
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch (_e) {
        data = null;
      }
    }
    if (response.ok) return { ok: true, status: response.status, data, error: null };
    let error = data && data.error && typeof data.error === "object" ? data.error : null;
    if (!error) error = { code: "http_" + response.status, message: "Something went wrong (HTTP " + response.status + ")." };
    if (!error.message) error.message = "Something went wrong (" + (error.code || response.status) + ").";
    if (error.retry_after_ms === undefined && data && data.retry_after_ms !== undefined) {
      error.retry_after_ms = data.retry_after_ms;
    }
    return { ok: false, status: response.status, data, error };
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  /* 86400 → "24 hours", 90 → "2 minutes", 604800 → "7 days". */
  function humanDuration(seconds) {
    const s = Math.max(0, Math.round(Number(seconds) || 0));
    if (s < 60) return plural(Math.max(1, s), "second");
    if (s < 3600) return plural(Math.round(s / 60), "minute");
    if (s <= 48 * 3600 && s % 86400 !== 0) return plural(Math.round(s / 3600), "hour");
    if (s === 86400) return "24 hours";
    if (s < 14 * 86400 || s % 7 !== 0) return plural(Math.round(s / 86400), "day");
    return plural(Math.round(s / (7 * 86400)), "week");
  }

  /* Time left until a ms timestamp, in words, rounded up: "3 minutes". */
  function timeLeft(untilMs, nowMs) {
    const now = nowMs === undefined ? Date.now() : nowMs;
    const seconds = Math.max(1, Math.ceil((untilMs - now) / 1000));
    if (seconds < 60) return plural(seconds, "second");
    if (seconds < 3600) return plural(Math.ceil(seconds / 60), "minute");
    if (seconds < 48 * 3600) return plural(Math.ceil(seconds / 3600), "hour");
    return plural(Math.ceil(seconds / 86400), "day");
  }

  function formatTime(ms) {
    try {
      return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    } catch (_e) {
      return "";
    }
  }

  function formatDateTime(ms) {
    try {
      return new Date(ms).toLocaleString([], {
        year: "numeric",
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
      });
    } catch (_e) {
      return String(ms);
    }
  }

  /* "Tue 14:05" when within a week, else a full date. */
  function formatWhen(ms) {
    const delta = ms - Date.now();
    if (Math.abs(delta) < 20 * 3600 * 1000) return formatTime(ms);
    return formatDateTime(ms);
  }

  /* The latest notice in the page's #notice (an aria-live region). kind: info | success | warn | error. */
  function notify(text, kind) {
    const box = document.getElementById("notice");
    const bar = document.getElementById("notice-bar");
    if (!box) return;
    // Replacing the text node makes screen readers announce even a repeated notice.
    box.textContent = "";
    box.appendChild(document.createTextNode(text));
    if (bar) {
      bar.hidden = false;
      bar.className = "notice-bar notice-" + (kind || "info");
    }
  }

  function clearNotice() {
    const box = document.getElementById("notice");
    const bar = document.getElementById("notice-bar");
    if (box) box.textContent = "";
    if (bar) bar.hidden = true;
  }

  function wireNoticeClose() {
    const close = document.getElementById("notice-close");
    if (close) close.addEventListener("click", clearNotice);
  }

  function randomId() {
    const bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /* Emit a Socket.IO event and wait for its ack; never rejects. */
  function emitAck(socket, event, payload, timeoutMs) {
    return new Promise((resolve) => {
      if (!socket || !socket.connected) {
        resolve({
          ok: false,
          error: { code: "offline", message: "You're offline right now. Hearth is reconnecting; please try again in a moment." },
        });
        return;
      }
      socket.timeout(timeoutMs || 10000).emit(event, payload, (err, ack) => {
        if (err) {
          resolve({ ok: false, error: { code: "timeout", message: "The server didn't answer in time. Please try again." } });
        } else if (!ack || typeof ack !== "object") {
          resolve({ ok: false, error: { code: "internal", message: "The server sent an unexpected answer." } });
        } else {
          if (ack.ok === false && (!ack.error || typeof ack.error !== "object")) {
            ack.error = { code: "internal", message: "Something went wrong." };
          }
          resolve(ack);
        }
      });
    });
  }

  /* Staff sign-in, shared by both pages. Resolves to the login answer
   * ({token, identity}), or to null after telling the user what went wrong. */
  async function signIn(nameInput, passwordInput, button) {
    const name = nameInput.value.trim();
    const password = passwordInput.value;
    if (!name || !password) {
      notify("Please enter your name and password.", "error");
      return null;
    }
    button.disabled = true;
    const res = await api("POST", "/api/login", { body: { name, password } });
    button.disabled = false;
    if (!res.ok) {
      let text = res.error.message;
      if (res.error.code === "unauthorized") text = "That name and password don't match.";
      else if (res.error.code === "rate_limited") {
        text = "Too many attempts. Please wait " + humanDuration((res.error.retry_after_ms || 60000) / 1000) +
          " and try again.";
      }
      notify(text, "error");
      return null;
    }
    passwordInput.value = "";
    return res.data;
  }

  return {
    el,
    clear,
    store,
    api,
    signIn,
    humanDuration,
    timeLeft,
    formatTime,
    formatDateTime,
    formatWhen,
    notify,
    clearNotice,
    wireNoticeClose,
    randomId,
    emitAck,
    plural,
  };
})();
