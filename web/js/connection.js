/* The chat page's Socket.IO connection: one socket for the active identity, reconnecting by
 * itself. Modules subscribe to server events with onServer() once; the handlers follow every
 * new socket. */

import { emit } from "./bus.js";
import { $ } from "./dom.js";
import { emitAck } from "./net.js";
import { notify } from "./notice.js";

let socket = null;
let everConnected = false;
const serverHandlers = []; // [event, fn]

/* Listen to a server event on the current and every later socket. */
export function onServer(event, fn) {
  serverHandlers.push([event, fn]);
  if (socket) attach(socket, event, fn);
}

function attach(s, event, fn) {
  s.on(event, (...args) => {
    if (socket === s) fn(...args);
  });
}

export function isConnected() {
  return !!socket && socket.connected;
}

/* Emit with an ack; resolves to the ack or to {ok: false, error} (never rejects). */
export function request(event, payload, timeoutMs) {
  return emitAck(socket, event, payload, timeoutMs);
}

function setStatus(text) {
  $("connection-status").textContent = text;
}

export function disconnect() {
  delete document.body.dataset.socket;
  if (socket) {
    const old = socket;
    socket = null;
    old.removeAllListeners();
    if (old.io.removeAllListeners) old.io.removeAllListeners();
    old.disconnect();
  }
}

export function connect(token) {
  disconnect();
  if (typeof window.io !== "function") {
    notify("The chat could not load. Please reload the page.", "error");
    return;
  }
  const s = window.io({
    auth: { token },
    transports: ["websocket"],
    forceNew: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
  });
  socket = s;
  let restarting = false; // the server said it is restarting (server:closing)
  attach(s, "connect", () => {
    setStatus("");
    document.body.dataset.socket = "connected";
    if (restarting) {
      restarting = false;
      s.io.reconnectionDelay(1000);
      s.io.reconnectionDelayMax(10000);
    }
    if (everConnected) notify("Connected again.", "success", { cause: "connection" });
    everConnected = true;
    emit("connected");
  });
  // A graceful restart: try again often, so the page is back within a second or two of the
  // server answering again (instead of after a backoff of up to ten seconds).
  attach(s, "server:closing", () => {
    restarting = true;
    s.io.reconnectionDelay(300);
    s.io.reconnectionDelayMax(1000);
  });
  attach(s, "disconnect", (reason) => {
    if (reason === "io client disconnect") return;
    document.body.dataset.socket = "disconnected";
    setStatus("Reconnecting…");
    notify(
      restarting ? "Hearth is restarting. You'll be back in a moment." : "Connection lost. Reconnecting…",
      "warn",
      { cause: "connection" },
    );
    emit("disconnected");
    // When the server closed the socket (restart, shutdown) the client does not retry by itself.
    if (reason === "io server disconnect") {
      const wait = restarting ? 200 + Math.random() * 500 : 1000 + Math.random() * 2000;
      window.setTimeout(() => {
        if (socket === s && !s.connected) s.connect();
      }, wait);
    }
  });
  attach(s, "connect_error", (err) => {
    const code = err && err.data && err.data.code;
    if (code === "unauthorized") {
      emit("unauthorized");
      return;
    }
    setStatus("Reconnecting…");
    const why = (err && err.data && err.data.message) || (err && err.message) || "unknown error";
    if (!restarting) notify("Can't connect to Hearth (" + why + "). Trying again…", "warn", { cause: "connection" });
    if (!s.active) {
      window.setTimeout(() => {
        if (socket === s && !s.connected) s.connect();
      }, 3000 + Math.random() * 3000);
    }
  });
  for (const [event, fn] of serverHandlers) attach(s, event, fn);
}
