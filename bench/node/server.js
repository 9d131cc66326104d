// The Node anchor: a minimal socket.io 4.8 server written the obvious way, speaking the
// subset of Hearth's HTTP API and Socket.IO events the load generator uses (the same shapes
// as bench/baseline_naive.py and docs/PROTOCOL.md):
//
//   POST /api/session, /api/login, /api/rooms, /api/admin/staff; GET /healthz
//   Socket.IO connect with auth {token}; "room:join" -> ack {ok, room, you, members, history}
//   and "member:joined" to the room; "message:send" -> "message:new" to the whole room
//   (sender included) and ack {ok, message}; "member:left" on disconnect.
//
// HMAC-signed tokens, rooms/staff/history in memory, no persistence, no moderation, no rate
// limits, no encryption at rest. Defaults everywhere (no permessage-deflate: socket.io 4's
// default). Run: node server.js --host 127.0.0.1 --port 8082 (HEARTH_ADMIN_PASSWORD,
// HEARTH_SECRET_KEY from the environment).
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const crypto = require("node:crypto");
const { Server } = require("socket.io");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const HOST = arg("--host", "127.0.0.1");
const PORT = Number(arg("--port", "8082"));
const SECRET = process.env.HEARTH_SECRET_KEY || crypto.randomBytes(32).toString("base64url");
const ADMIN_PASSWORD = process.env.HEARTH_ADMIN_PASSWORD || "";

const rooms = new Map(); // id -> room
const staff = new Map(); // name -> {role, salt, hash}
const history = new Map(); // room id -> message[] (at most 200)
const online = new Map(); // room id -> Map(socket id -> member)

function sign(identity) {
  const body = Buffer.from(JSON.stringify(identity)).toString("base64url");
  const mac = crypto.createHmac("sha256", SECRET).update(body).digest("hex");
  return `${body}.${mac}`;
}

function verify(token) {
  if (typeof token !== "string") return null;
  const i = token.lastIndexOf(".");
  if (i < 0) return null;
  const body = token.slice(0, i);
  const mac = Buffer.from(token.slice(i + 1));
  const good = Buffer.from(crypto.createHmac("sha256", SECRET).update(body).digest("hex"));
  if (mac.length !== good.length || !crypto.timingSafeEqual(mac, good)) return null;
  try {
    return JSON.parse(Buffer.from(body, "base64url").toString());
  } catch {
    return null;
  }
}

function hashPw(pw, salt) {
  return new Promise((resolve, reject) =>
    crypto.pbkdf2(pw, salt, 10000, 32, "sha256", (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function send(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) });
  res.end(data);
}

function err(res, status, code, message) {
  send(res, status, { error: { code, message } });
}

function bearer(req) {
  const h = req.headers.authorization || "";
  return h.startsWith("Bearer ") ? verify(h.slice(7)) : null;
}

function readJson(req) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= 1 << 20) chunks.push(c);
    });
    req.on("end", () => {
      try {
        const v = JSON.parse(Buffer.concat(chunks).toString() || "{}");
        resolve(v && typeof v === "object" && !Array.isArray(v) ? v : {});
      } catch {
        resolve({});
      }
    });
    req.on("error", () => resolve({}));
  });
}

async function api(req, res) {
  const path = req.url.split("?")[0];
  if (req.method === "GET" && path === "/healthz") return send(res, 200, { status: "ok", store: "memory" });
  if (req.method !== "POST") return err(res, 404, "not_found", "no such route");
  const data = await readJson(req);
  if (path === "/api/session") {
    const pseudonym = data.pseudonym || `Guest ${crypto.randomInt(100000)}`;
    const ident = { id: crypto.randomUUID().replace(/-/g, ""), pseudonym, role: "peer" };
    return send(res, 201, { token: sign(ident), identity: ident });
  }
  if (path === "/api/login") {
    const name = String(data.name || "");
    const pw = String(data.password || "");
    let role;
    if (name === "admin" && ADMIN_PASSWORD && pw === ADMIN_PASSWORD) {
      role = "admin";
    } else {
      const s = staff.get(name);
      if (!s || !crypto.timingSafeEqual(await hashPw(pw, s.salt), s.hash)) {
        return err(res, 401, "unauthorized", "wrong name or password");
      }
      role = s.role;
    }
    const ident = { id: `staff-${name}`, pseudonym: name, role };
    return send(res, 200, { token: sign(ident), identity: ident });
  }
  if (path === "/api/rooms") {
    const who = bearer(req);
    if (!who) return err(res, 401, "unauthorized", "no token");
    if (who.role !== "admin" && who.role !== "facilitator") return err(res, 403, "forbidden", "staff only");
    const name = String(data.name || "").trim();
    if (!name) return err(res, 400, "invalid", "name required");
    const id = String(data.id || name.toLowerCase().replace(/ /g, "-"));
    if (rooms.has(id)) return err(res, 409, "conflict", "room exists");
    const room = {
      id,
      name,
      topic: data.topic || "",
      message_ttl_s: Number(data.message_ttl_s || 86400),
      slow_mode_s: 0,
      locked: false,
      capacity: null,
    };
    rooms.set(id, room);
    return send(res, 201, { ...room, members: 0 });
  }
  if (path === "/api/admin/staff") {
    const who = bearer(req);
    if (!who || who.role !== "admin") return err(res, 403, "forbidden", "admin only");
    const name = String(data.name || "");
    const role = String(data.role || "");
    const pw = String(data.password || "");
    if (!name || (role !== "facilitator" && role !== "admin") || !pw) {
      return err(res, 400, "invalid", "name, role, password");
    }
    if (staff.has(name)) return err(res, 409, "conflict", "staff exists");
    const salt = crypto.randomBytes(16);
    staff.set(name, { role, salt, hash: await hashPw(pw, salt) });
    return send(res, 201, { name, role });
  }
  return err(res, 404, "not_found", "no such route");
}

const server = http.createServer((req, res) => {
  api(req, res).catch(() => err(res, 500, "internal", "error"));
});
const io = new Server(server, { serveClient: false });

function memberOf(ident, roomId) {
  const id = crypto.createHash("sha256").update(`${ident.id}:${roomId}`).digest("hex").slice(0, 16);
  return { id, pseudonym: ident.pseudonym, role: ident.role };
}

io.use((socket, next) => {
  const ident = verify(socket.handshake.auth && socket.handshake.auth.token);
  if (!ident) {
    const e = new Error("bad token");
    e.data = { code: "unauthorized", message: "bad token" };
    return next(e);
  }
  socket.data.identity = ident;
  socket.data.rooms = new Map();
  next();
});

io.on("connection", (socket) => {
  socket.on("room:join", (data, ack) => {
    if (typeof ack !== "function") return;
    const room = rooms.get(data && data.room);
    if (!room) return ack({ ok: false, error: { code: "not_found", message: "no such room" } });
    const member = memberOf(socket.data.identity, room.id);
    socket.data.rooms.set(room.id, member);
    socket.join(room.id);
    let members = online.get(room.id);
    if (!members) online.set(room.id, (members = new Map()));
    members.set(socket.id, member);
    socket.to(room.id).emit("member:joined", { room: room.id, member });
    ack({
      ok: true,
      room: { ...room, members: members.size },
      you: member,
      members: [...members.values()],
      history: history.get(room.id) || [],
    });
  });

  socket.on("message:send", (data, ack) => {
    if (typeof ack !== "function") return;
    if (!data || typeof data !== "object") return ack({ ok: false, error: { code: "invalid", message: "payload" } });
    const roomId = data.room;
    const member = socket.data.rooms.get(roomId);
    if (!member) return ack({ ok: false, error: { code: "not_member", message: "join first" } });
    const text = data.text;
    if (typeof text !== "string" || !text.trim() || text.length > 2000) {
      return ack({ ok: false, error: { code: "invalid", message: "text" } });
    }
    const ts = Date.now();
    const msg = {
      id: crypto.randomUUID().replace(/-/g, ""),
      room: roomId,
      author: member,
      text: text.trim(),
      ts,
      expires_at: ts + rooms.get(roomId).message_ttl_s * 1000,
      client_id: data.client_id === undefined ? null : data.client_id,
    };
    let h = history.get(roomId);
    if (!h) history.set(roomId, (h = []));
    h.push(msg);
    if (h.length > 200) h.shift();
    io.to(roomId).emit("message:new", msg);
    ack({ ok: true, message: msg });
  });

  socket.on("disconnect", () => {
    for (const [roomId, member] of socket.data.rooms) {
      const members = online.get(roomId);
      if (members) members.delete(socket.id);
      io.to(roomId).emit("member:left", { room: roomId, member_id: member.id, reason: "disconnected" });
    }
  });
});

server.listen(PORT, HOST, () => {
  const pkg = path.join(__dirname, "node_modules", "socket.io", "package.json");
  const version = JSON.parse(fs.readFileSync(pkg, "utf8")).version;
  console.log(`node ${process.version} socket.io ${version} listening on http://${HOST}:${PORT}`);
});

function stop() {
  io.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
