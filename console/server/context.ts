// What every route needs, passed explicitly (no global settings): the fleet, the stores, the
// live hub, sessions, the central MQTT connection, and the audit trail.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MqttClient } from 'mqtt';
import type { CentralDb } from '../../controller-cli/central-db.js';
import type { Fleet } from '../../controller-cli/fleet.js';
import type { Action, ApiError } from '../shared/api.js';
import type { ConsoleStore } from './console-store.js';
import type { LiveHub } from './live.js';
import type { LiveSessions } from './live-mic.js';
import { may, scopeOf } from './scope.js';
import type { LoginLimiter, Session, Sessions } from './sessions.js';

export interface ConsoleContext {
  fleet: Fleet;
  db: CentralDb;
  store: ConsoleStore;
  live: LiveHub;
  sessions: Sessions;
  limiter: LoginLimiter;
  /** The console's own central MQTT session (publishes commands and media). */
  mqtt: () => Promise<MqttClient>;
  /** Cookies get `Secure` when served over TLS. */
  secure: boolean;
  /** Microphone sessions being relayed to stations. */
  liveSessions: LiveSessions;
  /** Where stations fetch live streams (no trailing slash); undefined when none is reachable. */
  liveBaseUrl: string | undefined;
}

export const SESSION_COOKIE = 'loa_session';

declare module 'fastify' {
  interface FastifyRequest {
    session: Session | null;
  }
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(body.error);
  }
}

export const fail = (status: number, error: string, extra: Omit<ApiError, 'error'> = {}) => new HttpError(status, { error, ...extra });

/** The session of a request that passed the guard (every /api route but login). */
export function sessionOf(req: FastifyRequest): Session {
  if (!req.session) throw fail(401, 'not logged in');
  return req.session;
}

/** Refuse (and audit) what the user's role does not allow. */
export async function requireAction(ctx: ConsoleContext, req: FastifyRequest, action: Action, target: string | null = null): Promise<Session> {
  const s = sessionOf(req);
  if (!may(s.user, action)) {
    await audit(ctx, req, action, target, 'refused', `role ${s.user.role} may not ${action}`);
    throw fail(403, `your role (${s.user.role}) may not do this`);
  }
  return s;
}

/** Any one of several actions will do (making audio is part of announcing, scheduling or an alert). */
export async function requireAny(ctx: ConsoleContext, req: FastifyRequest, actions: Action[]): Promise<Session> {
  const s = sessionOf(req);
  if (actions.some((a) => may(s.user, a))) return s;
  return requireAction(ctx, req, actions[0]!);
}

export const scopeOfSession = (ctx: ConsoleContext, s: Session) => scopeOf(ctx.fleet, s.user);

export async function audit(
  ctx: ConsoleContext,
  req: FastifyRequest,
  action: string,
  target: string | null,
  outcome: 'ok' | 'refused' | 'failed',
  detail: string | null = null,
  user?: { name: string; role: string },
): Promise<void> {
  const who = user ?? req.session?.user ?? { name: '-', role: '-' };
  await ctx.store.appendAudit({ at: Date.now(), user: who.name, role: who.role, ip: req.ip, action, target, outcome, detail: detail?.slice(0, 2000) ?? null });
}

export function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof HttpError) return reply.code(e.status).send(e.body);
  throw e;
}
