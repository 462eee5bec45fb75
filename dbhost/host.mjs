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
// The first line of standard input is the root credential for this start,
// as JSON {"user": "...", "pass": "..."} (never argv or the environment,
// which other local users can read in `ps`). Prints "PFINNI_DBHOST_READY
// <port>" once it accepts connections. It exits when its standard input
// closes, so it never outlives the core that started it.
//
// Access control (the engine itself runs without authentication, so the
// host enforces it; see docs/database.md):
//   - the root user is (re)defined in the engine with this start's
//     password, and every connection must `signin` as it before any other
//     method: until then only signin, ping and version are answered;
//   - a WebSocket upgrade that carries an Origin header (a browser page)
//     is refused with 403;
//   - a connection always runs in its own RPC session: a session id sent
//     by the client is replaced, so no connection can borrow another's.
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

// readCredential reads the first line of standard input: the root user
// and password of this start. Later input is ignored; the end of input
// stops the host (see main).
function readCredential() {
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (chunk) => {
      buf += chunk.toString("utf8");
      const nl = buf.indexOf("\n");
      if (nl < 0) {
        if (buf.length > 4096) finish(new Error("credential line too long"));
        return;
      }
      finish(null, buf.slice(0, nl));
    };
    const onEnd = () => finish(new Error("standard input closed before the credential line"));
    const finish = (err, line) => {
      process.stdin.off("data", onData);
      process.stdin.off("end", onEnd);
      process.stdin.pause();
      if (err) return reject(err);
      let c;
      try {
        c = JSON.parse(line);
      } catch {
        return reject(new Error("credential line is not JSON"));
      }
      if (typeof c.user !== "string" || !/^[A-Za-z0-9_]{1,64}$/.test(c.user) || typeof c.pass !== "string" || !/^[A-Za-z0-9_-]{16,128}$/.test(c.pass)) {
        return reject(new Error("credential line needs a user name and a password of 16 to 128 base64url characters"));
      }
      resolve(c);
    };
    process.stdin.on("data", onData);
    process.stdin.on("end", onEnd);
  });
}

// isError reports whether an engine answer is {error: ...}.
function isError(res) {
  return res.length > ERROR_PREFIX.length && Buffer.compare(res.subarray(0, ERROR_PREFIX.length), ERROR_PREFIX) === 0;
}

// defineRoot (re)defines the root user with this start's password, in a
// session of its own that is detached again.
async function defineRoot(engine, cred) {
  const sess = randomUUID();
  const call = async (req) => Buffer.from(await engine.execute(encoder.encode({ ...req, session: sessionTag(sess) })));
  await call({ id: "attach", method: "attach" });
  try {
    const res = await call({
      id: "root",
      method: "query",
      // DEFINE USER takes no parameter for the password; both values were
      // checked against [A-Za-z0-9_-] above, so they cannot break out.
      params: [`DEFINE USER OVERWRITE ${cred.user} ON ROOT PASSWORD '${cred.pass}' ROLES OWNER`],
    });
    // The engine's message may quote the statement: never print the password.
    const hide = (m) => String(m).split(cred.pass).join("<password>");
    if (isError(res)) throw new Error("define root user: " + hide(JSON.stringify(decoder.decode(res).error)));
    const results = decoder.decode(res);
    for (const r of Array.isArray(results) ? results : []) {
      if (r && r.status === "ERR") throw new Error("define root user: " + hide(r.result));
    }
  } finally {
    await call({ id: "detach", method: "detach" }).catch(() => {});
  }
}

// rootSignin reports whether a signin request names exactly a user and a
// password (a root sign-in).
function rootSignin(req) {
  const p = Array.isArray(req.params) ? req.params[0] : undefined;
  if (!p || typeof p !== "object" || Array.isArray(p)) return false;
  const keys = p instanceof Map ? [...p.keys()] : Object.keys(p);
  return keys.length === 2 && keys.includes("user") && keys.includes("pass");
}

// Methods a connection may call before it has signed in.
const BEFORE_SIGNIN = new Set(["signin", "ping", "version"]);
// Methods after which the connection is no longer signed in.
const SIGNS_OUT = new Set(["invalidate", "reset"]);

// ownSession re-encodes a request that named a session with the
// connection's own session instead.
function ownSession(decoded, sess) {
  decoded.session = sessionTag(sess);
  return Buffer.from(encoder.encode(decoded));
}

async function main() {
  const cred = await readCredential();
  const { SurrealNodeEngine } = loadEngine();
  const engine = await SurrealNodeEngine.connect(path, {});
  await defineRoot(engine, cred);
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
    // A browser always sends Origin on a WebSocket upgrade; pfinni's own
    // client never does. Refusing it keeps web pages out (cross-origin
    // WebSocket requests are not covered by the same-origin policy).
    verifyClient: (info, cb) => (info.req.headers.origin !== undefined ? cb(false, 403, "Forbidden") : cb(true)),
  });

  wss.on("connection", async (ws) => {
    const sess = randomUUID();
    const key = tagKey(sess);
    let signedIn = false;
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
      const method = req && typeof req.method === "string" ? req.method.toLowerCase() : "";
      if (!signedIn && !BEFORE_SIGNIN.has(method)) {
        ws.send(errorReply(idBytes, "not signed in: sign in as the root user first"));
        return;
      }
      if (method === "signin" && !rootSignin(req)) {
        // Only the root user signs in here: a namespace, database or
        // record-access sign-in would not be bound by permissions in an
        // engine that runs without authentication.
        ws.send(errorReply(idBytes, "sign in refused: only the root user may sign in"));
        return;
      }
      try {
        const out = req.session === undefined ? withSession(raw, req, sess) : ownSession(req, sess);
        const res = Buffer.from(await engine.execute(out));
        if (method === "signin") signedIn = !isError(res);
        if (SIGNS_OUT.has(method)) signedIn = false;
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
      if (isError(res)) {
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
  process.stdin.on("data", () => {}); // anything after the credential line is ignored
  process.stdin.resume();
}

main().catch((e) => {
  console.error("dbhost:", e && e.stack ? e.stack : e);
  process.exit(1);
});
