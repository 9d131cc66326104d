/* Talking to the server: JSON over HTTP and Socket.IO events with acks. Neither ever rejects. */

/* Resolves to {ok, status, data, error}, where error is the server's {code, message, ...}
 * or one made up for network trouble. */
export async function api(method, path, { token, body } = {}) {
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

/* Emit a Socket.IO event and wait for its ack: resolves to the ack, or to
 * {ok: false, error} when offline, timed out or answered oddly. */
export function emitAck(socket, event, payload, timeoutMs) {
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

export function randomId() {
  const bytes = new Uint8Array(12);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
