// The demo's MQTT broker: Aedes in this process, on a free port, enforcing the same password
// file and ACL that `loa broker config` generates for Mosquitto. Nothing is hard-coded: every
// user and password comes from the files the CLI wrote for this run.
import { pbkdf2Sync } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { startEmbeddedBroker } from '../io/embedded-broker.js';

export interface DemoBroker {
  port: number;
  url: string;
  /** Counters for the closing summary. */
  stats: { refusedLogins: number; deniedPublishes: number; deniedSubscriptions: number };
  stop(): Promise<void>;
}

interface AclRule { access: 'read' | 'write' | 'readwrite'; pattern: string }

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

export async function startDemoBroker(files: { passwd: string; acl: string }): Promise<DemoBroker> {
  const passwd = watched(files.passwd, (t) => new Map(t.split('\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l])), new Map<string, string>());
  const acl = watched(files.acl, parseAcl, new Map<string, AclRule[]>());
  const stats = { refusedLogins: 0, deniedPublishes: 0, deniedSubscriptions: 0 };
  const users = new WeakMap<object, string>();
  const allowed = (client: object | null, topic: string, want: 'read' | 'write') => {
    if (client === null) return true; // the broker itself (wills are published on the client's behalf)
    const user = users.get(client);
    if (!user) return false;
    return (acl().get(user) ?? []).some((r) => (r.access === 'readwrite' || r.access === want) && covers(r.pattern, topic));
  };

  const embedded = await startEmbeddedBroker({
    authenticate(client, username, password, done) {
      const line = username ? passwd().get(username) : undefined;
      if (!username || !password || !line || !checkPasswordLine(line, password.toString('utf8'))) {
        stats.refusedLogins++;
        const err = Object.assign(new Error('bad user name or password'), { returnCode: 4 as const });
        return done(err, false);
      }
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
  });
  return {
    port: embedded.port,
    url: embedded.url,
    stats,
    stop: () => embedded.stop(),
  };
}
