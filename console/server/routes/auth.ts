import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { SessionInfo } from '../../shared/api.js';
import { ROLE_ACTIONS } from '../../shared/api.js';
import { checkLogin } from '../accounts.js';
import { audit, type ConsoleContext, fail, SESSION_COOKIE, scopeOfSession } from '../context.js';
import type { Session } from '../sessions.js';

const Login = z.strictObject({ name: z.string().min(1).max(64), password: z.string().min(1).max(512) });

export function sessionInfo(ctx: ConsoleContext, s: Session): SessionInfo {
  const scope = scopeOfSession(ctx, s);
  const f = ctx.fleet;
  return {
    user: { ...s.user, actions: [...ROLE_ACTIONS[s.user.role]] },
    csrf: s.csrf,
    serverNow: Date.now(),
    idleTimeoutSec: Math.round(ctx.sessions.limits.idleMs / 1000),
    fleet: {
      timezone: f.timezone,
      alertQuorum: f.alertQuorum,
      testAlerts: f.policy.testAlerts,
      groups: f.groups.filter((g) => f.stations.some((s) => s.groups.includes(g.id) && scope.has(s.id))),
      stations: f.stations
        .filter((st) => scope.has(st.id))
        .map((st) => ({ id: st.id, name: st.name, groups: st.groups, zones: st.zones.map((z) => ({ id: z.id, name: z.name })), location: st.location ?? null })),
    },
  };
}

export async function authRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const setCookie = (reply: FastifyReply, value: string, maxAgeSec: number) =>
    reply.setCookie(SESSION_COOKIE, value, { path: '/', httpOnly: true, sameSite: 'strict', secure: ctx.secure, maxAge: maxAgeSec });

  app.post('/api/login', async (req, reply) => {
    const parsed = Login.safeParse(req.body);
    if (!parsed.success) throw fail(400, 'expected {name, password}');
    const { name, password } = parsed.data;
    const wait = ctx.limiter.retryAfter(name, req.ip);
    if (wait > 0) {
      await audit(ctx, req, 'login', name, 'refused', 'rate limited', { name, role: '-' });
      reply.header('retry-after', String(wait));
      throw fail(429, `too many failed logins: try again in ${Math.ceil(wait / 60)} min`);
    }
    const r = await checkLogin(ctx.fleet, ctx.store, name, password).catch(() => ({ ok: false }) as const);
    if (!r.ok) {
      ctx.limiter.failed(name, req.ip);
      await audit(ctx, req, 'login', name, 'refused', 'wrong name or password', { name, role: '-' });
      throw fail(401, 'wrong name or password');
    }
    ctx.limiter.succeeded(name);
    const u = r.user;
    const session = ctx.sessions.create({ name: u.name, role: u.role, stations: u.stations, groups: u.groups, key: u.key }, r.signer, req.ip, u.updatedAt);
    await audit(ctx, req, 'login', null, 'ok', null, u);
    setCookie(reply, session.id, Math.round(ctx.sessions.limits.maxMs / 1000));
    return sessionInfo(ctx, session);
  });

  app.post('/api/logout', async (req, reply) => {
    if (req.session) {
      await audit(ctx, req, 'logout', null, 'ok');
      ctx.sessions.drop(req.session.id);
    }
    setCookie(reply, '', 0);
    return { ok: true };
  });

  app.get('/api/session', async (req) => {
    if (!req.session) throw fail(401, 'not logged in');
    return sessionInfo(ctx, req.session);
  });
}
