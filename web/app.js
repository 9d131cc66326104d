/* Hearth chat page. Plain browser JavaScript, no build step.
 * Wire contract: docs/PROTOCOL.md (events, acks, error codes, objects).
 * All user text goes into the page through textContent (Hearth.el "text" / string children). */
"use strict";

(() => {
  const { el, clear, store, api, humanDuration, timeLeft, formatTime, formatDateTime, formatWhen, notify, randomId, emitAck } =
    Hearth;

  const PEER_KEY = "hearth.session"; // {token, identity} of the anonymous peer
  const STAFF_KEY = "hearth.staff"; // {token, identity} of a signed-in facilitator or admin
  const ROOM_KEY = "hearth.room"; // id of the room to come back to after a reload
  const MAX_TEXT = 2000;

  const $ = (id) => document.getElementById(id);

  let peer = validSession(store.get(PEER_KEY));
  let staff = validSession(store.get(STAFF_KEY));
  let socket = null;
  let everConnected = false;
  let rooms = new Map(); // id -> Room
  let wantedRoom = store.get(ROOM_KEY); // room to be in (joined on every connect)
  let current = null; // {room, you, members: Map(id -> Member), muted: Map(id -> until|null)}
  let joining = null; // room id of a join in flight
  let sending = false;
  let myMute = null; // null, or {until: ms|null} while I am muted in the current room
  const messages = new Map(); // message id -> {msg, node}
  const skewSamples = []; // server clock minus local clock, from message:new
  let clockSkew = 0;
  let recovering = null;
  let flagTarget = null;
  let roomsTimer = null;

  function validSession(s) {
    return s && typeof s === "object" && typeof s.token === "string" && s.identity && typeof s.identity === "object"
      ? s
      : null;
  }

  function active() {
    return staff || peer;
  }

  function isStaff() {
    const a = active();
    return !!a && (a.identity.role === "facilitator" || a.identity.role === "admin");
  }

  function serverNow() {
    return Date.now() + clockSkew;
  }

  function noteServerTime(ts) {
    if (typeof ts !== "number") return;
    skewSamples.push(ts - Date.now());
    if (skewSamples.length > 10) skewSamples.shift();
    // Network delay only ever makes a sample too small, so the largest is the best estimate.
    const best = Math.max(...skewSamples);
    clockSkew = Math.abs(best) < 1500 ? 0 : best;
  }

  // ---------------------------------------------------------------- errors in words

  function seconds(ms) {
    const s = Math.max(1, Math.ceil((Number(ms) || 0) / 1000));
    return s < 60 ? Hearth.plural(s, "second") : Hearth.plural(Math.ceil(s / 60), "minute");
  }

  function mutedText(until) {
    if (until === null || until === undefined) {
      return "You're muted until a facilitator unmutes you. You can still read the conversation.";
    }
    return "You're muted for " + timeLeft(until, serverNow()) + " more (until " + formatWhen(until) +
      "). You can still read the conversation.";
  }

  function describeError(e, what) {
    const code = e && e.code;
    switch (code) {
      case "muted":
        return mutedText(e.until);
      case "rate_limited":
        return "You're sending quickly. Please wait " + seconds(e.retry_after_ms) + " and try again.";
      case "slow_mode":
        return "This room is in slow mode. You can send again in " + seconds(e.retry_after_ms) + ".";
      case "room_locked":
        return what === "join"
          ? "This room is locked right now, so no one new can join. Please try again later."
          : "This room is locked right now. You can read, but new messages are paused.";
      case "room_full":
        return "This room is full at the moment. Please try again a little later, or choose another room.";
      case "banned": {
        const until = e.until !== undefined ? e.until : e.banned_until;
        return until ? "You can't join this room until " + formatDateTime(until) + "." : "You can't join this room.";
      }
      case "invalid":
        return what === "send"
          ? "That message can't be sent" + (e.message ? ": " + e.message : ". Messages are 1 to 2000 characters.")
          : "That didn't work" + (e.message ? ": " + e.message : ".");
      case "not_member":
        return "You're not in this room any more. Please join it again.";
      case "not_found":
        return what === "join"
          ? "That room doesn't exist any more."
          : "That's no longer there. It may have expired or been deleted.";
      case "forbidden":
        return "You don't have permission to do that" + (e.message ? ": " + e.message : ".");
      case "unauthorized":
        return "Your session has ended. Please start again.";
      case "unavailable":
        return "Hearth is having trouble right now. Please try again in a moment.";
      case "conflict":
        return e.message || "That was already done.";
      default:
        return (e && e.message) || "Something went wrong. Please try again.";
    }
  }

  // ---------------------------------------------------------------- session

  async function createSession(pseudonym) {
    const body = pseudonym ? { pseudonym } : {};
    const res = await api("POST", "/api/session", { body });
    if (!res.ok) {
      let text = res.error.message;
      if (res.error.code === "invalid") text = "That name can't be used: " + res.error.message + " Please try another, or leave it empty.";
      else if (res.error.code === "rate_limited") text = "Too many new sessions from here. Please wait " + seconds(res.error.retry_after_ms) + ".";
      notify(text, "error");
      return false;
    }
    peer = validSession(res.data);
    if (!peer) {
      notify("The server sent an unexpected answer. Please try again.", "error");
      return false;
    }
    store.set(PEER_KEY, peer);
    return true;
  }

  /* A token was refused: drop it and carry on with a fresh one. Runs once at a time. */
  function handleUnauthorized() {
    if (recovering) return recovering;
    recovering = (async () => {
      try {
        if (staff) {
          staff = null;
          store.remove(STAFF_KEY);
          notify("Your staff sign-in has ended. Please sign in again.", "warn");
        } else if (peer) {
          const oldName = peer.identity.pseudonym;
          peer = null;
          store.remove(PEER_KEY);
          let ok = await createSession(oldName);
          if (!ok) ok = await createSession(null);
          if (ok) notify("Your session had ended, so Hearth started a new one for you.", "warn");
        }
        if (active()) restart();
        else showWelcome();
      } finally {
        recovering = null;
      }
    })();
    return recovering;
  }

  // ---------------------------------------------------------------- screens

  function showWelcome() {
    stopSocket();
    leaveView();
    $("welcome").hidden = false;
    $("chat").hidden = true;
    $("identity-bar").hidden = true;
    renderStaffForm();
    $("pseudonym-input").focus();
  }

  function startChat() {
    $("welcome").hidden = true;
    $("chat").hidden = false;
    renderIdentity();
    renderStaffForm();
    connectSocket();
    loadRooms();
    if (!roomsTimer) roomsTimer = window.setInterval(() => { if (active()) loadRooms(); }, 30000);
  }

  /* The active identity changed (staff sign-in/out, new token): reconnect and rejoin. */
  function restart() {
    leaveView();
    startChat();
  }

  function renderIdentity() {
    const a = active();
    $("identity-bar").hidden = !a;
    if (!a) return;
    $("identity-name").textContent = a.identity.pseudonym;
    const role = $("identity-role");
    role.hidden = !isStaff();
    role.textContent = isStaff() ? a.identity.role : "";
    $("new-identity-button").hidden = !!staff;
    $("staff-logout-button").hidden = !staff;
    document.body.classList.toggle("is-staff", isStaff());
  }

  function renderStaffForm() {
    $("staff-form").hidden = !!staff;
    $("staff-signed-in").hidden = !(staff && staff.identity.role === "admin");
  }

  function setConnection(text) {
    $("connection-status").textContent = text;
  }

  // ---------------------------------------------------------------- socket

  function stopSocket() {
    delete document.body.dataset.socket;
    if (socket) {
      const old = socket;
      socket = null;
      old.removeAllListeners();
      old.io.removeAllListeners && old.io.removeAllListeners();
      old.disconnect();
    }
  }

  function connectSocket() {
    stopSocket();
    const a = active();
    if (!a) return;
    if (typeof window.io !== "function") {
      notify("The chat could not load. Please reload the page.", "error");
      return;
    }
    const s = window.io({
      auth: { token: a.token },
      transports: ["websocket"],
      forceNew: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
    });
    socket = s;
    const on = (event, fn) => s.on(event, (...args) => { if (socket === s) fn(...args); });

    on("connect", () => {
      setConnection("");
      document.body.dataset.socket = "connected";
      if (everConnected) notify("Connected again.", "success");
      everConnected = true;
      updateComposer();
      if (wantedRoom) joinRoom(wantedRoom, { rejoin: true });
    });
    on("disconnect", (reason) => {
      if (reason === "io client disconnect") return;
      document.body.dataset.socket = "disconnected";
      setConnection("Reconnecting…");
      notify("Connection lost. Reconnecting…", "warn");
      updateComposer();
      // When the server closed the socket (restart, shutdown) the client does not retry by itself.
      if (reason === "io server disconnect") {
        window.setTimeout(() => { if (socket === s && !s.connected) s.connect(); }, 1000 + Math.random() * 2000);
      }
    });
    on("connect_error", (err) => {
      const code = err && err.data && err.data.code;
      if (code === "unauthorized") {
        handleUnauthorized();
        return;
      }
      setConnection("Reconnecting…");
      const why = (err && err.data && err.data.message) || (err && err.message) || "unknown error";
      notify("Can't connect to Hearth (" + why + "). Trying again…", "warn");
      if (!s.active) {
        window.setTimeout(() => { if (socket === s && !s.connected) s.connect(); }, 3000 + Math.random() * 3000);
      }
    });

    on("message:new", onMessageNew);
    on("message:deleted", (p) => {
      if (p && current && p.room === current.room.id) removeMessage(p.message_id);
    });
    on("member:joined", (p) => {
      if (!p || !current || p.room !== current.room.id || !p.member) return;
      current.members.set(p.member.id, p.member);
      renderMembers();
      syncRoomCount();
    });
    on("member:left", (p) => {
      if (!p || !current || p.room !== current.room.id) return;
      if (current.you && p.member_id === current.you.id) return; // another tab of mine left
      current.members.delete(p.member_id);
      renderMembers();
      syncRoomCount();
    });
    on("member:muted", onMemberMuted);
    on("member:unmuted", onMemberUnmuted);
    on("room:removed", onRoomRemoved);
    on("room:updated", onRoomUpdated);
    on("flag:new", onFlagNew);
  }

  // ---------------------------------------------------------------- rooms

  async function loadRooms() {
    const a = active();
    if (!a) return;
    const res = await api("GET", "/api/rooms", { token: a.token });
    if (active() !== a) return;
    if (!res.ok) {
      if (res.error.code === "unauthorized") handleUnauthorized();
      else notify("Couldn't load the rooms: " + res.error.message, "error");
      return;
    }
    const list = (res.data && Array.isArray(res.data.rooms)) ? res.data.rooms : [];
    rooms = new Map(list.map((r) => [r.id, r]));
    if (current && rooms.has(current.room.id)) {
      // Keep the live copy (room:updated) but take the fresh member count.
      current.room.members = rooms.get(current.room.id).members;
    }
    renderRooms();
  }

  function ttlText(room) {
    return "Messages disappear after " + humanDuration(room.message_ttl_s || 86400);
  }

  /* Keep the room list's "N here" for the room I am in as live as the member list. */
  function syncRoomCount() {
    const listed = current && rooms.get(current.room.id);
    if (!listed) return;
    listed.members = current.members.size;
    renderRooms();
  }

  function renderRooms() {
    const list = $("room-list");
    clear(list);
    const sorted = [...rooms.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
    for (const room of sorted) {
      const n = Number(room.members) || 0;
      const meta = [(n === 1 ? "1 person" : n + " people") + " here", ttlText(room)];
      if (room.locked) meta.push("Locked");
      if (room.slow_mode_s) meta.push("Slow mode");
      if (room.capacity !== null && room.capacity !== undefined && Number(room.members) >= room.capacity) meta.push("Full");
      const isCurrent = current && current.room.id === room.id;
      const button = el(
        "button",
        { type: "button", class: "room-item", "aria-current": isCurrent ? "true" : null, on: { click: () => chooseRoom(room.id) } },
        el("span", { class: "room-item-name", text: room.name }),
        room.topic ? el("span", { class: "room-item-topic", text: room.topic }) : null,
        el("span", { class: "room-item-meta", text: meta.join(" · ") }),
      );
      list.append(el("li", { dataset: { roomId: room.id }, class: isCurrent ? "current" : null }, button));
    }
    $("room-list-empty").hidden = rooms.size > 0;
  }

  function chooseRoom(roomId) {
    if (current && current.room.id === roomId) {
      $("composer").focus();
      return;
    }
    wantedRoom = roomId;
    store.set(ROOM_KEY, roomId);
    if (socket && socket.connected) joinRoom(roomId, {});
    else notify("Connecting… you'll join the room in a moment.", "info");
  }

  async function joinRoom(roomId, { rejoin }) {
    if (joining === roomId) return;
    joining = roomId;
    try {
      if (current && current.room.id !== roomId) {
        const old = current.room.id;
        leaveView();
        await emitAck(socket, "room:leave", { room: old });
      }
      const ack = await emitAck(socket, "room:join", { room: roomId });
      if (wantedRoom !== roomId) return; // the user chose another room meanwhile
      if (!ack.ok) {
        if (ack.error.code === "offline" || ack.error.code === "timeout") {
          notify(describeError(ack.error, "join"), "warn");
          return; // joined again on the next connect
        }
        forgetRoom();
        leaveView();
        notify(describeError(ack.error, "join"), "error");
        return;
      }
      const keepMute = current && current.room.id === roomId ? myMute : null;
      enterView(ack, keepMute);
      if (!rejoin) notify("You joined " + current.room.name + ".", "info");
      loadRooms(); // fresh member counts, this visit included
    } finally {
      joining = null;
    }
  }

  function forgetRoom() {
    wantedRoom = null;
    store.remove(ROOM_KEY);
  }

  function enterView(ack, keepMute) {
    const room = ack.room && typeof ack.room === "object" ? ack.room : rooms.get(wantedRoom) || { id: wantedRoom, name: wantedRoom };
    current = { room, you: ack.you || null, members: new Map(), muted: new Map() };
    // The join ack says whether I am muted here (a Hearth extension), so a reload shows it at once.
    myMute = ack.mute ? { until: ack.mute.until === undefined ? null : ack.mute.until } : keepMute;
    for (const m of ack.members || []) current.members.set(m.id, m);
    if (ack.you) current.members.set(ack.you.id, ack.you);
    const list = $("messages");
    list.setAttribute("aria-busy", "true");
    clearMessages();
    for (const msg of ack.history || []) renderMessage(msg, false);
    list.setAttribute("aria-busy", "false");
    $("room-view").hidden = false;
    $("chat").classList.add("in-room");
    renderRoomHeader();
    renderMembers();
    renderRooms();
    updateComposer();
    scrollToBottom(true);
    if (!$("composer").disabled) $("composer").focus();
  }

  function leaveView() {
    current = null;
    myMute = null;
    clearMessages();
    clear($("members"));
    $("room-view").hidden = true;
    $("chat").classList.remove("in-room");
    if (flagDialogOpen()) $("flag-dialog").close();
    renderRooms();
  }

  async function leaveRoom() {
    if (!current) return;
    const id = current.room.id;
    const name = current.room.name;
    forgetRoom();
    leaveView();
    await emitAck(socket, "room:leave", { room: id });
    notify("You left " + name + ".", "info");
    loadRooms();
  }

  function renderRoomHeader() {
    if (!current) return;
    const room = current.room;
    $("room-name").textContent = room.name || room.id;
    $("room-topic").textContent = room.topic || "";
    $("room-topic").hidden = !room.topic;
    $("room-ttl").textContent = ttlText(room);
    $("room-locked").hidden = !room.locked;
    $("room-slow").hidden = !room.slow_mode_s;
    $("room-slow").textContent = room.slow_mode_s ? "Slow mode: one message every " + humanDuration(room.slow_mode_s) : "";
    $("room-controls").hidden = !isStaff();
    const lock = $("lock-button");
    lock.textContent = room.locked ? "Unlock room" : "Lock room";
    lock.dataset.action = room.locked ? "unlock" : "lock";
    const select = $("slow-mode-select");
    const value = String(room.slow_mode_s || 0);
    if (![...select.options].some((o) => o.value === value)) {
      select.append(el("option", { value, text: humanDuration(Number(value)) }));
    }
    select.value = value;
  }

  // ---------------------------------------------------------------- messages

  function clearMessages() {
    messages.clear();
    clear($("messages"));
    $("messages-empty").hidden = false;
  }

  function nearBottom() {
    const list = $("messages");
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function scrollToBottom(force) {
    const list = $("messages");
    if (force || nearBottom()) list.scrollTop = list.scrollHeight;
  }

  function onMessageNew(msg) {
    if (!msg || typeof msg !== "object") return;
    noteServerTime(msg.ts);
    if (!current || msg.room !== current.room.id) return;
    const stick = nearBottom();
    renderMessage(msg, true);
    if (stick) scrollToBottom(true);
  }

  function renderMessage(msg, live) {
    if (!current || !msg || messages.has(msg.id)) return;
    if (typeof msg.expires_at === "number" && serverNow() >= msg.expires_at) return;
    const author = msg.author || { id: "", pseudonym: "someone", role: "peer" };
    const mine = current.you && author.id === current.you.id;
    const authorIsStaff = author.role === "facilitator" || author.role === "admin";
    const actions = el(
      "div",
      { class: "message-actions" },
      el("button", {
        type: "button",
        class: "button-small button-quiet",
        dataset: { action: "flag" },
        "aria-label": "Flag this message from " + author.pseudonym,
        text: "Flag",
        on: { click: () => openFlagDialog(msg) },
      }),
      isStaff()
        ? el("button", {
            type: "button",
            class: "button-small button-danger",
            dataset: { action: "delete" },
            "aria-label": "Delete this message from " + author.pseudonym,
            text: "Delete",
            on: { click: () => deleteMessage(msg) },
          })
        : null,
    );
    const node = el(
      "li",
      {
        class: "message" + (mine ? " mine" : "") + (authorIsStaff ? " from-staff" : ""),
        dataset: { messageId: msg.id, authorId: author.id },
      },
      el(
        "div",
        { class: "message-meta" },
        el("span", { class: "author", text: author.pseudonym }),
        authorIsStaff ? el("span", { class: "badge", text: author.role }) : null,
        mine ? el("span", { class: "you-tag", text: "(you)" }) : null,
        el("time", { class: "time", datetime: new Date(msg.ts).toISOString(), title: formatDateTime(msg.ts), text: formatTime(msg.ts) }),
      ),
      el("p", { class: "text", text: msg.text }),
      actions,
    );
    // Keep the view in time order even if an event arrives late.
    const list = $("messages");
    let before = null;
    for (let child = list.lastElementChild; child; child = child.previousElementSibling) {
      const entry = messages.get(child.dataset.messageId);
      if (entry && entry.msg.ts > msg.ts) before = child;
      else break;
    }
    list.insertBefore(node, before);
    messages.set(msg.id, { msg, node });
    $("messages-empty").hidden = true;
    if (live === undefined) scrollToBottom(false);
  }

  function removeMessage(id) {
    const entry = messages.get(id);
    if (!entry) return;
    entry.node.remove();
    messages.delete(id);
    $("messages-empty").hidden = messages.size > 0;
    if (flagTarget && flagTarget.id === id && flagDialogOpen()) {
      $("flag-dialog").close();
      notify("That message is gone now, so it can't be flagged.", "info");
    }
  }

  /* Messages leave the view when they expire; mutes end on time. Runs every second. */
  function tick() {
    const now = serverNow();
    for (const [id, entry] of messages) {
      if (typeof entry.msg.expires_at === "number" && now >= entry.msg.expires_at) removeMessage(id);
    }
    if (myMute && typeof myMute.until === "number" && now >= myMute.until) {
      myMute = null;
      notify("Your mute has ended. You can send messages again.", "success");
      updateComposer();
    } else if (myMute) {
      updateComposer();
    }
    if (current) {
      let changed = false;
      for (const [id, until] of current.muted) {
        if (typeof until === "number" && now >= until) {
          current.muted.delete(id);
          changed = true;
        }
      }
      if (changed) renderMembers();
    }
  }

  function updateComposer() {
    const composer = $("composer");
    const send = $("send-button");
    const state = $("composer-state");
    let reason = "";
    if (!current) reason = "";
    else if (!socket || !socket.connected) reason = "Reconnecting…";
    else if (myMute) reason = mutedText(myMute.until);
    else if (current.room.locked && !isStaff()) reason = "This room is locked right now. You can read, but new messages are paused.";
    const blocked = !current || reason !== "";
    composer.disabled = blocked && !!current && (!!myMute || (current.room.locked && !isStaff()));
    send.disabled = blocked || sending;
    if (state.textContent !== reason) state.textContent = reason;
    $("composer-form").classList.toggle("blocked", blocked);
  }

  async function sendMessage() {
    if (!current || sending) return;
    const composer = $("composer");
    const text = composer.value;
    if (!text.trim()) return;
    if ([...text.trim()].length > MAX_TEXT) {
      notify("That message is too long: messages are at most " + MAX_TEXT + " characters.", "error");
      return;
    }
    const room = current.room.id;
    sending = true;
    updateComposer();
    const ack = await emitAck(socket, "message:send", { room, text, client_id: randomId() });
    sending = false;
    if (ack.ok) {
      if (composer.value === text) composer.value = "";
      if (ack.message) {
        noteServerTime(ack.message.ts);
        renderMessage(ack.message, true);
        scrollToBottom(true);
      }
    } else {
      const e = ack.error;
      if (e.code === "muted") {
        myMute = { until: e.until === undefined ? null : e.until };
      } else if (e.code === "room_locked" && current) {
        current.room.locked = true;
        renderRoomHeader();
      } else if (e.code === "not_member" && current) {
        joinRoom(room, { rejoin: true });
      }
      notify(describeError(e, "send"), e.code === "muted" || e.code === "room_locked" ? "warn" : "error");
    }
    updateComposer();
    if (!composer.disabled) composer.focus();
  }

  // ---------------------------------------------------------------- members

  function renderMembers() {
    const list = $("members");
    clear(list);
    if (!current) return;
    const me = current.you ? current.you.id : null;
    const mine = active() ? active().identity.role : "peer";
    const all = [...current.members.values()].sort((a, b) => {
      if (a.id === me) return -1;
      if (b.id === me) return 1;
      return String(a.pseudonym).localeCompare(String(b.pseudonym));
    });
    for (const m of all) {
      const memberIsStaff = m.role === "facilitator" || m.role === "admin";
      const mutedUntil = current.muted.has(m.id) ? current.muted.get(m.id) : undefined;
      const item = el(
        "li",
        { class: "member" + (m.id === me ? " me" : ""), dataset: { memberId: m.id } },
        el(
          "div",
          { class: "member-line" },
          el("span", { class: "member-name", text: m.pseudonym }),
          memberIsStaff ? el("span", { class: "badge", text: m.role }) : null,
          m.id === me ? el("span", { class: "you-tag", text: "(you)" }) : null,
          mutedUntil !== undefined
            ? el("span", { class: "muted-tag", text: mutedUntil ? "muted until " + formatTime(mutedUntil) : "muted" })
            : null,
        ),
      );
      const canAct = isStaff() && m.id !== me && (!memberIsStaff || mine === "admin");
      if (canAct) item.append(memberControls(m));
      list.append(item);
    }
    $("member-count").textContent = "(" + all.length + ")";
  }

  function memberControls(m) {
    const b = (action, label, aria, cls, fn) =>
      el("button", { type: "button", class: "button-small " + (cls || ""), dataset: { action }, "aria-label": aria + " " + m.pseudonym, text: label, on: { click: fn } });
    return el(
      "div",
      { class: "member-controls", role: "group", "aria-label": "Actions for " + m.pseudonym },
      b("mute-300", "Mute 5 min", "Mute for 5 minutes:", "", () => mute(m, 300)),
      b("mute-3600", "Mute 1 h", "Mute for 1 hour:", "", () => mute(m, 3600)),
      b("mute", "Mute", "Mute until unmuted:", "", () => mute(m, null)),
      b("unmute", "Unmute", "Unmute", "", () => unmute(m)),
      b("remove", "Remove", "Remove from the room:", "button-danger", () => removeMember(m, null)),
      b("ban-86400", "Remove + ban 24 h", "Remove and ban for 24 hours:", "button-danger", () => removeMember(m, 86400)),
    );
  }

  async function mute(m, duration) {
    if (!current) return;
    const payload = { room: current.room.id, member: m.id };
    if (duration) payload.duration_s = duration;
    const ack = await emitAck(socket, "mod:mute", payload);
    if (!ack.ok) return notify(describeError(ack.error, "mod"), "error");
    if (current) current.muted.set(m.id, ack.until === undefined ? null : ack.until);
    renderMembers();
    notify(m.pseudonym + (duration ? " is muted for " + humanDuration(duration) + "." : " is muted until you unmute them."), "success");
  }

  async function unmute(m) {
    if (!current) return;
    const ack = await emitAck(socket, "mod:unmute", { room: current.room.id, member: m.id });
    if (!ack.ok) return notify(describeError(ack.error, "mod"), "error");
    if (current) current.muted.delete(m.id);
    renderMembers();
    notify(m.pseudonym + " can send messages again.", "success");
  }

  async function removeMember(m, banSeconds) {
    if (!current) return;
    const payload = { room: current.room.id, member: m.id };
    if (banSeconds) payload.ban_s = banSeconds;
    const ack = await emitAck(socket, "mod:remove", payload);
    if (!ack.ok) return notify(describeError(ack.error, "mod"), "error");
    if (current) current.members.delete(m.id);
    renderMembers();
    notify(
      m.pseudonym + " was removed" + (ack.banned_until ? " and can't come back until " + formatDateTime(ack.banned_until) : "") + ".",
      "success",
    );
  }

  async function deleteMessage(msg) {
    if (!current) return;
    const ack = await emitAck(socket, "mod:delete", { room: msg.room, message_id: msg.id });
    if (!ack.ok) return notify(describeError(ack.error, "mod"), "error");
    removeMessage(msg.id);
    notify("Message deleted.", "success");
  }

  function onMemberMuted(p) {
    if (!p || !current || p.room !== current.room.id) return;
    const until = p.until === undefined ? null : p.until;
    current.muted.set(p.member_id, until);
    renderMembers();
    if (current.you && p.member_id === current.you.id) {
      myMute = { until };
      const head = until === null
        ? "A facilitator has muted you until they unmute you."
        : "A facilitator has muted you for " + timeLeft(until, serverNow()) + " (until " + formatWhen(until) + ").";
      notify(head + " You can still read the conversation." + (p.reason ? " Reason: " + p.reason : ""), "warn");
      updateComposer();
    }
  }

  function onMemberUnmuted(p) {
    if (!p || !current || p.room !== current.room.id) return;
    current.muted.delete(p.member_id);
    renderMembers();
    if (current.you && p.member_id === current.you.id) {
      myMute = null;
      notify("You've been unmuted. You can send messages again.", "success");
      updateComposer();
    }
  }

  function onRoomRemoved(p) {
    if (!p) return;
    const roomId = p.room;
    if (wantedRoom === roomId) forgetRoom();
    if (!current || current.room.id !== roomId) {
      loadRooms();
      return;
    }
    const name = current.room.name || roomId;
    leaveView();
    if (p.reason === "room_deleted") {
      notify("This room was deleted: " + name + ".", "warn");
    } else {
      notify(
        "You were removed from this room (" + name + ")" +
          (p.banned_until ? " and can't rejoin until " + formatDateTime(p.banned_until) : "") + ".",
        "warn",
      );
    }
    loadRooms();
  }

  function onRoomUpdated(room) {
    if (!room || typeof room !== "object" || !room.id) return;
    rooms.set(room.id, room);
    if (current && current.room.id === room.id) {
      const wasLocked = !!current.room.locked;
      const oldSlow = current.room.slow_mode_s || 0;
      current.room = room;
      renderRoomHeader();
      updateComposer();
      if (wasLocked !== !!room.locked) {
        notify(room.locked ? "This room is now locked. " + (isStaff() ? "Peers can read but not send." : "You can still read.") : "This room is open again.", "info");
      } else if (oldSlow !== (room.slow_mode_s || 0)) {
        notify(room.slow_mode_s ? "Slow mode is on: one message every " + humanDuration(room.slow_mode_s) + "." : "Slow mode is off.", "info");
      }
    }
    renderRooms();
  }

  function onFlagNew(flag) {
    if (!isStaff() || !flag) return;
    const room = rooms.get(flag.room);
    notify("A message in " + (room ? room.name : flag.room) + " was flagged: " + (flag.reason || ""), "warn");
  }

  async function patchRoom(changes) {
    if (!current || !staff) return;
    const res = await api("PATCH", "/api/rooms/" + encodeURIComponent(current.room.id), { token: staff.token, body: changes });
    if (!res.ok) {
      if (res.error.code === "unauthorized") return handleUnauthorized();
      notify("Couldn't change the room: " + res.error.message, "error");
      renderRoomHeader();
      return;
    }
    if (res.data && res.data.id) onRoomUpdated(res.data);
  }

  // ---------------------------------------------------------------- flags

  function flagDialogOpen() {
    return $("flag-dialog").open;
  }

  function openFlagDialog(msg) {
    flagTarget = msg;
    $("flag-quote").textContent = (msg.author ? msg.author.pseudonym + ": " : "") + msg.text;
    $("flag-reason").selectedIndex = 0;
    $("flag-text").value = "";
    $("flag-dialog").showModal();
    $("flag-reason").focus();
  }

  async function submitFlag(event) {
    event.preventDefault();
    const msg = flagTarget;
    if (!msg) return;
    const extra = $("flag-text").value.trim();
    let reason = $("flag-reason").value + (extra ? ": " + extra : "");
    reason = [...reason].slice(0, 500).join("");
    $("flag-submit").disabled = true;
    const ack = await emitAck(socket, "message:flag", { room: msg.room, message_id: msg.id, reason });
    $("flag-submit").disabled = false;
    if (flagDialogOpen()) $("flag-dialog").close();
    flagTarget = null;
    if (ack.ok) notify("Thanks, a moderator will review it.", "success");
    else notify(describeError(ack.error, "flag"), "error");
  }

  // ---------------------------------------------------------------- staff sign-in

  async function staffLogin(event) {
    event.preventDefault();
    const answer = await Hearth.signIn($("staff-name"), $("staff-password"), $("staff-login-button"));
    if (!answer) return;
    const session = validSession(answer);
    if (!session) {
      notify("The server sent an unexpected answer.", "error");
      return;
    }
    staff = session;
    store.set(STAFF_KEY, staff);
    notify("Signed in as " + staff.identity.pseudonym + " (" + staff.identity.role + ").", "success");
    restart();
  }

  function staffLogout() {
    staff = null;
    store.remove(STAFF_KEY);
    notify("Signed out.", "info");
    if (peer) restart();
    else showWelcome();
  }

  function newIdentity() {
    if (current) emitAck(socket, "room:leave", { room: current.room.id });
    forgetRoom();
    peer = null;
    store.remove(PEER_KEY);
    $("pseudonym-input").value = "";
    showWelcome();
    notify("Your previous identity is gone from this browser. Choose a new name, or leave it empty.", "info");
  }

  async function start(event) {
    event.preventDefault();
    const name = $("pseudonym-input").value.trim();
    $("start-button").disabled = true;
    const ok = await createSession(name || null);
    $("start-button").disabled = false;
    if (!ok) {
      $("pseudonym-input").focus();
      return;
    }
    Hearth.clearNotice();
    startChat();
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    Hearth.wireNoticeClose();
    $("start-form").addEventListener("submit", start);
    $("staff-form").addEventListener("submit", staffLogin);
    $("staff-logout-button").addEventListener("click", staffLogout);
    $("new-identity-button").addEventListener("click", newIdentity);
    $("rooms-refresh-button").addEventListener("click", loadRooms);
    $("leave-button").addEventListener("click", leaveRoom);
    $("composer-form").addEventListener("submit", (e) => {
      e.preventDefault();
      sendMessage();
    });
    $("composer").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        sendMessage();
      }
    });
    $("flag-form").addEventListener("submit", submitFlag);
    $("flag-cancel").addEventListener("click", () => {
      flagTarget = null;
      $("flag-dialog").close();
    });
    $("lock-button").addEventListener("click", () => {
      if (current) patchRoom({ locked: !current.room.locked });
    });
    $("slow-mode-select").addEventListener("change", (e) => patchRoom({ slow_mode_s: Number(e.target.value) }));
    window.setInterval(tick, 1000);

    if (active()) startChat();
    else showWelcome();
  }

  init();
})();
