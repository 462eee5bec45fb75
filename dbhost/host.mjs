// pfinni embedded database host.
//
// Runs the real SurrealDB engine (npm @surrealdb/node, the engine compiled as
// a native Node module) behind the same `/rpc` WebSocket endpoint that
// `surreal start` serves, so the official Go client (surrealdb.go) talks to it
// unchanged. The Go core starts this program as a child process; see
// core/dbengine. Protocol notes (shared/surrealdb.md):
//   1. execute() answers the bare result: we wrap it as {id, result}.
//   2. errors come back as {error: {...}}: we send {id, error}.
//   3. live notifications are bare maps: we wrap them as {result: ...}.
//   4. one engine has one default session: each WebSocket connection gets
//      its own RPC session (attach/detach) so `use ns db` stays per connection.
//   5. notifications carry their session and are routed to its connection.
//
// Usage: node host.mjs --path surrealkv:///abs/dir | mem:// [--bind 127.0.0.1:0]
// Prints "PFINNI_DBHOST_READY <port>" once it accepts connections. It exits
// when its standard input closes, so it never outlives the core that started it.
//
// SurrealDB docs followed: https://surrealdb.com/docs/surrealdb/integration/rpc

import { createRequire } from "node:module";
import http from "node:http";
import { randomUUID } from "node:crypto";
import { decode, encode, Tagged } from "@surrealdb/cbor";
import { WebSocketServer } from "ws";

const require = createRequire(import.meta.url);

function loadEngine() {
  // The package's own entry point wraps the binding in the JS SDK's engine
  // classes; we need only the native binding, loaded the way the package does.
  const dir = new URL("./node_modules/@surrealdb/node/dist/", import.meta.url).pathname;
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const candidates = [
    `${dir}surrealdb-node.linux-${arch}-gnu.node`,
    `${dir}surrealdb-node.linux-${arch}-musl.node`,
    `${dir}surrealdb-node.darwin-${arch}.node`,
  ];
  const errors = [];
  for (const c of candidates) {
    try {
      return require(c);
    } catch (e) {
      errors.push(`${c}: ${e.message}`);
    }
  }
  throw new Error("cannot load the SurrealDB engine binding:\n" + errors.join("\n"));
}

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const path = arg("--path", "mem://");
const bind = arg("--bind", "127.0.0.1:0");
const [bindHost, bindPort] = bind.split(":");

const encoder = { encode: (v) => Buffer.from(encode(v)) };
const decoder = { decode: (b) => decode(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)) };

function uuidBytes(u) {
  return Buffer.from(u.replace(/-/g, ""), "hex");
}
function sessionTag(u) {
  return new Tagged(37, new Uint8Array(uuidBytes(u)));
}
function tagKey(v) {
  // Returns a stable string for a session value (tag 37 over 16 bytes).
  if (v instanceof Tagged) v = v.value;
  if (v instanceof ArrayBuffer) v = new Uint8Array(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (typeof v === "string") return v.replace(/-/g, "").toLowerCase();
  return String(v);
}

// Pre-encoded pieces of the reply envelope; results are spliced in as raw
// bytes, so a result is never decoded and re-encoded here.
const KEY_ID = encoder.encode("id");
const KEY_RESULT = encoder.encode("result");
const KEY_ERROR = encoder.encode("error");
const ERROR_PREFIX = Buffer.concat([Buffer.from([0xa1]), KEY_ERROR]);

function envelope(idBytes, body) {
  // body is a CBOR value; if it is {error: X} we answer {id, error: X}.
  const isError = body.length > ERROR_PREFIX.length && Buffer.compare(body.subarray(0, ERROR_PREFIX.length), ERROR_PREFIX) === 0;
  if (idBytes === null) {
    return isError ? body : Buffer.concat([Buffer.from([0xa1]), KEY_RESULT, body]);
  }
  if (isError) {
    return Buffer.concat([Buffer.from([0xa2]), KEY_ID, idBytes, KEY_ERROR, body.subarray(ERROR_PREFIX.length)]);
  }
  return Buffer.concat([Buffer.from([0xa2]), KEY_ID, idBytes, KEY_RESULT, body]);
}

function errorReply(idBytes, message) {
  const err = encoder.encode({ code: -32000, message });
  return idBytes === null
    ? Buffer.concat([Buffer.from([0xa1]), KEY_ERROR, err])
    : Buffer.concat([Buffer.from([0xa2]), KEY_ID, idBytes, KEY_ERROR, err]);
}

// withSession appends `session: <tag37>` to a request map encoded with a
// definite length below 23 entries (what the Go client sends). Anything else
// is re-encoded from its decoded form.
function withSession(raw, decoded, sess) {
  const head = raw[0];
  if (head >= 0xa0 && head < 0xb7) {
    return Buffer.concat([Buffer.from([head + 1]), raw.subarray(1), encoder.encode("session"), encoder.encode(sessionTag(sess))]);
  }
  decoded.session = sessionTag(sess);
  return Buffer.from(encoder.encode(decoded));
}

async function main() {
  const { SurrealNodeEngine } = loadEngine();
  const engine = await SurrealNodeEngine.connect(path, {});
  const conns = new Map(); // session key -> ws

  // Live-query notifications: route to the connection that owns the session.
  const receiver = await engine.notifications();
  (async () => {
    for (;;) {
      const value = await receiver.recv();
      if (value === null) break;
      const buf = Buffer.from(value);
      let target = null;
      try {
        const n = decoder.decode(buf);
        if (n && n.session !== undefined) target = conns.get(tagKey(n.session));
      } catch {
        /* undecodable notification: broadcast below */
      }
      const out = envelope(null, buf);
      if (target) {
        if (target.readyState === 1) target.send(out);
      } else {
        for (const ws of conns.values()) if (ws.readyState === 1) ws.send(out);
      }
    }
  })().catch((e) => console.error("notifications:", e.message));

  const server = http.createServer((req, res) => {
    if (req.url === "/health" || req.url === "/status") {
      res.writeHead(200).end();
      return;
    }
    if (req.url === "/version") {
      res.writeHead(200, { "content-type": "text/plain" }).end("surrealdb-3.0.2");
      return;
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({
    server,
    path: "/rpc",
    maxPayload: 256 * 1024 * 1024,
    handleProtocols: (protocols) => (protocols.has("cbor") ? "cbor" : false),
  });

  wss.on("connection", async (ws) => {
    const sess = randomUUID();
    const key = tagKey(sess);
    let ready;
    const attached = new Promise((r) => (ready = r));
    ws.on("message", async (data, isBinary) => {
      await attached;
      const raw = Buffer.isBuffer(data) ? data : Buffer.from(data);
      let idBytes = null;
      let req;
      try {
        req = decoder.decode(raw);
        if (req && req.id !== undefined) idBytes = Buffer.from(encoder.encode(req.id));
      } catch (e) {
        ws.send(errorReply(null, "invalid CBOR request: " + e.message));
        return;
      }
      try {
        const out = req.session === undefined ? withSession(raw, req, sess) : raw;
        const res = Buffer.from(await engine.execute(out));
        if (ws.readyState === 1) ws.send(envelope(idBytes, res));
      } catch (e) {
        if (ws.readyState === 1) ws.send(errorReply(idBytes, String(e && e.message ? e.message : e)));
      }
    });
    ws.on("close", async () => {
      conns.delete(key);
      try {
        await engine.execute(encoder.encode({ id: "detach", method: "detach", session: sessionTag(sess) }));
      } catch {
        /* engine going away */
      }
    });
    // Handlers are registered before the first await: the client sends its
    // first request right after the upgrade, and it must not be lost.
    try {
      const res = Buffer.from(await engine.execute(encoder.encode({ id: "attach", method: "attach", session: sessionTag(sess) })));
      if (res.length > ERROR_PREFIX.length && Buffer.compare(res.subarray(0, ERROR_PREFIX.length), ERROR_PREFIX) === 0) {
        console.error("attach failed:", JSON.stringify(decoder.decode(res)));
      }
    } catch (e) {
      console.error("attach failed:", e.message);
    }
    conns.set(key, ws);
    ready();
  });

  server.listen(Number(bindPort || 0), bindHost || "127.0.0.1", () => {
    process.stdout.write(`PFINNI_DBHOST_READY ${server.address().port}\n`);
  });

  const stop = () => {
    try {
      wss.close();
      server.close();
      engine.free();
    } finally {
      process.exit(0);
    }
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // The parent keeps our stdin open; when it goes away (even killed), we go too.
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
}

main().catch((e) => {
  console.error("dbhost:", e && e.stack ? e.stack : e);
  process.exit(1);
});
