// The console's HTTP server: Fastify with cookies, the built page as static files, and the
// API under /api. Every /api request but login needs a session; every state change also needs
// the session's CSRF token in a header, which a page on another site can neither read nor send.
import { existsSync } from 'node:fs';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { type ConsoleContext, fail, HttpError, SESSION_COOKIE } from './context.js';
import { alertsRoutes } from './routes/alerts.js';
import { announceRoutes } from './routes/announce.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { broadcastRoutes } from './routes/broadcasts.js';
import { liveMicRoutes, liveStreamRoute } from './routes/live-mic.js';
import { mediaRoutes } from './routes/media.js';
import { reportRoutes } from './routes/reports.js';
import { schedulesRoutes } from './routes/schedules.js';
import { stationRoutes } from './routes/stations.js';
import type { Session } from './sessions.js';

export interface AppOptions {
  /** Built page (dist/web); absent in API-only tests. */
  webDir?: string;
  https?: { key: Buffer; cert: Buffer };
  /** Behind a reverse proxy that sets X-Forwarded-For (off by default: clients could forge it). */
  trustProxy?: boolean;
}

/** No inline script, nothing from elsewhere: a station-controlled string can never run as code. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function accountUnchanged(ctx: ConsoleContext, s: Session): Promise<boolean> {
  const u = await ctx.store.user(s.user.name);
  return u !== undefined && !u.disabled && u.updatedAt === s.accountVersion;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export async function buildApp(ctx: ConsoleContext, opts: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    trustProxy: opts.trustProxy === true,
    bodyLimit: 1024 * 1024,
    ...(opts.https ? { https: { key: opts.https.key, cert: opts.https.cert } } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  await app.register(fastifyCookie);
  await app.register(fastifyWebsocket, { options: { maxPayload: 256 * 1024 } });
  app.decorateRequest('session', null);

  app.addHook('onRequest', async (req, reply) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('permissions-policy', 'camera=(), geolocation=(), microphone=(self)');
    if (ctx.secure) reply.header('strict-transport-security', 'max-age=31536000');
    if (!req.url.startsWith('/api/')) return;
    reply.header('cache-control', 'no-store');
    let session = ctx.sessions.get(req.cookies[SESSION_COOKIE]);
    // Any change to the account since login (disabled, new password, new scope) ends the session.
    if (session && !(await accountUnchanged(ctx, session))) {
      ctx.sessions.drop(session.id);
      session = undefined;
    }
    req.session = session ?? null;
    const open = req.url === '/api/login' || req.url === '/api/session';
    if (!session && !open) throw fail(401, 'not logged in');
    if (!SAFE_METHODS.has(req.method)) {
      // A browser always sends Origin on a cross-site POST: it must be this server.
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== `${ctx.secure ? 'https' : 'http'}://${req.headers.host}`) throw fail(403, 'cross-site request refused');
      if (session && req.headers['x-csrf-token'] !== session.csrf) throw fail(403, 'missing or wrong CSRF token');
    }
  });

  app.setErrorHandler((e, _req, reply) => {
    if (e instanceof HttpError) return reply.code(e.status).send(e.body);
    const err = e as Error & { statusCode?: number };
    const status = err.statusCode;
    if (status && status >= 400 && status < 500) return reply.code(status).send({ error: err.message });
    process.stderr.write(`${new Date().toISOString()} console: ${err.stack ?? err.message}\n`);
    return reply.code(500).send({ error: 'internal error (logged on the server)' });
  });

  await authRoutes(app, ctx);
  await stationRoutes(app, ctx);
  await broadcastRoutes(app, ctx);
  await mediaRoutes(app, ctx);
  await announceRoutes(app, ctx);
  await reportRoutes(app, ctx);
  await auditRoutes(app, ctx);
  await schedulesRoutes(app, ctx);
  await alertsRoutes(app, ctx);
  await liveMicRoutes(app, ctx);

  if (opts.webDir && existsSync(opts.webDir)) {
    await app.register(fastifyStatic, { root: opts.webDir, prefix: '/', index: ['index.html'], wildcard: false });
    // Client-side routes (/broadcasts/…) get the page; unknown /api paths stay 404 JSON.
    app.setNotFoundHandler((req, reply) => {
      if (req.url.startsWith('/api/') || req.method !== 'GET') return reply.code(404).send({ error: 'not found' });
      return reply.type('text/html').sendFile('index.html');
    });
  } else {
    app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not found' }));
  }
  return app;
}

/** Only the stations' live-stream route, for a plain-HTTP LAN port beside a TLS console. */
export async function buildLiveApp(ctx: ConsoleContext): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.decorateRequest('session', null);
  await liveStreamRoute(app, ctx);
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not found' }));
  return app as unknown as FastifyInstance;
}
