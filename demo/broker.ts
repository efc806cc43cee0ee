// The demo's MQTT broker: Aedes in this process, on a free port, enforcing the same password
// file and ACL that `loa broker config` generates for Mosquitto. Nothing is hard-coded: every
// user and password comes from the files the CLI wrote for this run.
import { pbkdf2Sync } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { startEmbeddedBroker } from '../io/embedded-broker.js';

export interface DemoBroker {
  /** The central listener. */
  port: number;
  url: string;
  /** The station listener (client id must equal the user name). */
  stationPort: number;
  stationUrl: string;
  /** Counters for the closing summary. */
  stats: { refusedLogins: number; deniedPublishes: number; deniedSubscriptions: number };
  stop(): Promise<void>;
}

interface AclRule {
  access: 'read' | 'write' | 'readwrite';
  pattern: string;
}

/** Mosquitto `$7$` (PBKDF2-SHA512) password line check, as mosquitto does it. */
export function checkPasswordLine(line: string, password: string): boolean {
  const m = /^[^:]+:\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(line.trim());
  if (!m) return false;
  const expected = Buffer.from(m[3]!, 'base64');
  return pbkdf2Sync(password, Buffer.from(m[2]!, 'base64'), Number(m[1]), expected.length, 'sha512').equals(expected);
}

/** `user NAME` / `topic read|write|readwrite PATTERN` blocks, as `loa broker config` writes them. */
export function parseAcl(text: string): Map<string, AclRule[]> {
  const rules = new Map<string, AclRule[]>();
  let user: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [kw, a, b] = line.split(/\s+/);
    if (kw === 'user' && a) {
      user = a;
      if (!rules.has(user)) rules.set(user, []);
    } else if (kw === 'topic' && user && a && (b || a)) {
      // `topic PATTERN` alone means readwrite.
      const access = b ? (a as AclRule['access']) : 'readwrite';
      rules.get(user)!.push({ access, pattern: b ?? a });
    }
  }
  return rules;
}

/** Does ACL pattern `pattern` cover topic or subscription filter `filter`? */
export function covers(pattern: string, filter: string): boolean {
  const p = pattern.split('/');
  const f = filter.split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '#') return true;
    if (i >= f.length) return false;
    if (f[i] === '#') return false; // the filter asks for more than this pattern grants
    if (p[i] === '+') continue;
    if (p[i] !== f[i]) return false;
  }
  return p.length === f.length;
}

/** Reload a file only when it changed: `loa provision` rewrites the password file while we run. */
function watched<T>(path: string, parse: (text: string) => T, empty: T): () => T {
  let mtime = -1;
  let value = empty;
  return () => {
    if (!existsSync(path)) return empty;
    const m = statSync(path).mtimeMs;
    if (m !== mtime) {
      value = parse(readFileSync(path, 'utf8'));
      mtime = m;
    }
    return value;
  };
}

export interface DemoBrokerFiles {
  /** Station users: accepted on the station listener only. */
  passwd: string;
  /** The central user: accepted on the central listener only. */
  centralPasswd: string;
  acl: string;
}

/**
 * Two listeners, like the mosquitto.conf `loa broker config` writes: the central one knows
 * only the central user; the station one knows only stations and requires the client id to be
 * the user name (mosquitto renames it, `use_username_as_clientid`; Aedes cannot rename, so it
 * refuses the connection), so a station's credentials can never take over another session.
 */
export async function startDemoBroker(files: DemoBrokerFiles): Promise<DemoBroker> {
  const lines = (t: string) =>
    new Map(
      t
        .split('\n')
        .filter((l) => l.includes(':'))
        .map((l) => [l.slice(0, l.indexOf(':')), l]),
    );
  const stationPasswd = watched(files.passwd, lines, new Map<string, string>());
  const centralPasswd = watched(files.centralPasswd, lines, new Map<string, string>());
  const acl = watched(files.acl, parseAcl, new Map<string, AclRule[]>());
  const stats = { refusedLogins: 0, deniedPublishes: 0, deniedSubscriptions: 0 };
  const users = new WeakMap<object, string>();
  const stationSockets = new WeakSet<object>();
  const allowed = (client: object | null, topic: string, want: 'read' | 'write') => {
    if (client === null) return true; // the broker itself (wills are published on the client's behalf)
    const user = users.get(client);
    if (!user) return false;
    return (acl().get(user) ?? []).some((r) => (r.access === 'readwrite' || r.access === want) && covers(r.pattern, topic));
  };
  const refuse = (done: (err: Error & { returnCode: 4 | 5 }, ok: boolean) => void, code: 4 | 5, msg: string) => {
    stats.refusedLogins++;
    done(Object.assign(new Error(msg), { returnCode: code }), false);
  };

  const embedded = await startEmbeddedBroker(
    {
      authenticate(client, username, password, done) {
        const station = stationSockets.has(client.conn as object);
        const line = username ? (station ? stationPasswd() : centralPasswd()).get(username) : undefined;
        if (!username || !password || !line || !checkPasswordLine(line, password.toString('utf8'))) return refuse(done, 4, 'bad user name or password');
        if (station && client.id !== username) return refuse(done, 5, `client id ${client.id} is not the user name ${username}`);
        users.set(client, username);
        done(null, true);
      },
      authorizePublish(client, packet, done) {
        if (allowed(client, packet.topic, 'write')) return done(null);
        stats.deniedPublishes++;
        done(new Error(`not authorised to publish to ${packet.topic}`));
      },
      authorizeSubscribe(client, sub, done) {
        if (allowed(client, sub.topic, 'read')) return done(null, sub);
        stats.deniedSubscriptions++;
        done(null, null); // SUBACK 0x80, like mosquitto
      },
    },
    {
      extraListeners: 1,
      onConnection: (socket, listener) => {
        if (listener === 1) stationSockets.add(socket);
      },
    },
  );
  return {
    port: embedded.port,
    url: embedded.url,
    stationPort: embedded.ports[1]!,
    stationUrl: `mqtt://127.0.0.1:${embedded.ports[1]}`,
    stats,
    stop: () => embedded.stop(),
  };
}
