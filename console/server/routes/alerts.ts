// Alerts in the console: a draft from one official, the approval from a second one in their
// own login (password typed again), cancel with a correction in one step. The rules are the
// CLI's (controller-cli/alert-rules.ts, drafts.ts); the console adds only that the approver
// must be a different console user from the one who drafted.

import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { cancelWithCorrection, correctionText, needsApproval } from '../../../controller-cli/alert-rules.js';
import { mediaStoreDir, speechCacheDir } from '../../../controller-cli/audio-source.js';
import { sendBroadcast } from '../../../controller-cli/broadcast-send.js';
import { issueCommand } from '../../../controller-cli/command-issue.js';
import { prefetchDraft } from '../../../controller-cli/draft-prefetch.js';
import {
  checkApprover,
  type Draft,
  draftSigners,
  isComplete,
  levelOf,
  listDrafts,
  readDraft,
  saveDraft,
  sendDraft,
  signDraft,
  writeDraft,
} from '../../../controller-cli/drafts.js';
import { CliError } from '../../../controller-cli/errors.js';
import { storedMediaPath, storeMedia } from '../../../controller-cli/media.js';
import { DEFAULT_VOICE, synthesise } from '../../../controller-cli/speech.js';
import { planTopics } from '../../../controller-cli/targets.js';
import { AlertBody, CancelBody, Id, isId, Sha256 } from '../../../protocol/index.js';
import type { DraftView } from '../../shared/api.js';
import { openSigner } from '../accounts.js';
import { audit, type ConsoleContext, fail, requireAction, requireAny, scopeOfSession } from '../context.js';
import { verifyPassword } from '../credentials.js';
import { summarise } from '../progress.js';
import type { Session } from '../sessions.js';
import { signerOf, targetFor } from './announce.js';

const NewAlert = z.strictObject({
  media: Sha256,
  title: z.string().trim().min(1).max(200),
  to: z.array(z.string().max(64)).min(1).max(1000),
  test: z.boolean(),
  repeat: z.number().int().min(1).max(20).default(1),
  zones: z.array(Id).min(1).max(64).optional(),
});

const Approve = z.strictObject({ password: z.string().min(1).max(512) });

const Cancel = z.strictObject({
  reason: z.string().trim().max(500).default(''),
  /** A recorded correction (a clip on the server), else the scripted spoken one. */
  correctionMedia: Sha256.optional(),
  password: z.string().min(1).max(512),
});

function view(fleet: ConsoleContext['fleet'], d: Draft): DraftView {
  const last = d.envelopes[d.envelopes.length - 1]!;
  const cancel = d.envelopes.find((e) => e.type === 'cancel');
  const alert = d.envelopes.find((e) => e.type === 'alert');
  const body = alert ? AlertBody.parse(alert.body) : undefined;
  const cancelBody = cancel ? CancelBody.parse(cancel.body) : undefined;
  const audio = body?.audio.kind === 'media' ? body.audio : undefined;
  return {
    id: last.id,
    kind: cancel ? 'cancel' : 'alert',
    createdAt: d.createdAt,
    drafter: d.origin.kind === 'console' ? d.origin.user : null,
    signers: draftSigners(d),
    needed: d.needed,
    test: body?.test ?? false,
    title: body?.title ?? '',
    media: audio?.sha256 ?? null,
    text: audio?.tts?.text ?? null,
    stations: planTopics(fleet, last.target).stations,
    expiresAt: d.envelopes.map((e) => e.expiresAt).sort()[0]!,
    cancels: cancelBody?.broadcastId ?? null,
    reason: cancelBody?.reason ?? null,
    origin: d.origin.kind === 'cap' ? `CAP ${d.origin.sender}` : d.origin.kind,
  };
}

/** The user's password again, checked, and their key opened with it (never the session's copy). */
async function reauthenticate(ctx: ConsoleContext, req: FastifyRequest, s: Session, password: string, action: string) {
  const user = await ctx.store.user(s.user.name);
  if (!user || !(await verifyPassword(password, user.passwordHash))) {
    ctx.limiter.failed(s.user.name, req.ip);
    await audit(ctx, req, action, null, 'refused', 'wrong password');
    throw fail(403, 'wrong password', { path: 'password' });
  }
  const signer = await openSigner(ctx.fleet, user, password).catch(() => null);
  if (!signer) throw fail(403, 'no signing key is bound to your account');
  return signer;
}

const assetsDir = () => join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..', 'assets');

export async function alertsRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const inScope = (s: Session, stations: string[]) => {
    const scope = scopeOfSession(ctx, s);
    return stations.every((id) => scope.has(id));
  };
  const findDraft = (id: string) => {
    if (!isId(id)) throw fail(400, 'bad draft id');
    const found = listDrafts(ctx.fleet).find((d) => view(ctx.fleet, d.draft).id === id);
    if (!found) throw fail(404, 'no such draft (already sent, or never made)');
    return found;
  };

  app.get('/api/alerts/drafts', async (req) => {
    const s = await requireAny(ctx, req, ['alert.draft', 'alert.approve']);
    return listDrafts(ctx.fleet)
      .map((d) => view(ctx.fleet, d.draft))
      .filter((v) => inScope(s, v.stations));
  });

  app.get('/api/alerts/drafts/:id', async (req) => {
    const s = await requireAction(ctx, req, 'view');
    const v = view(ctx.fleet, findDraft((req.params as { id: string }).id).draft);
    if (!inScope(s, v.stations)) throw fail(404, 'no such draft (already sent, or never made)');
    return v;
  });

  /** What every station puts before a test alert: the approver hears exactly what will air. */
  app.get('/api/assets/test-preamble', async (req, reply) => {
    await requireAction(ctx, req, 'view');
    const file = join(assetsDir(), 'test-preamble-vi.wav');
    if (!existsSync(file)) throw fail(404, 'preamble asset missing');
    return reply.type('audio/wav').header('content-length', statSync(file).size).send(createReadStream(file));
  });

  /** A test alert goes out now on one signature; a live one becomes a draft for a second official. */
  app.post('/api/alerts', async (req) => {
    const s = await requireAny(ctx, req, ['alert.draft', 'alert.approve']);
    const parsed = NewAlert.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw fail(400, issue.message, { path: issue.path.join('.') });
    }
    const r = parsed.data;
    const { target, stations } = await targetFor(ctx, req, s, r.test ? 'alert.test' : 'alert.draft', r.to);
    const signer = signerOf(s);
    const path = storedMediaPath(mediaStoreDir(ctx.fleet), r.media);
    if (!existsSync(path)) throw fail(400, 'the clip is not on the server: upload or record it again', { path: 'media' });
    const media = storeMedia(mediaStoreDir(ctx.fleet), path);
    const body = AlertBody.parse({ title: r.title, test: r.test, repeat: r.repeat, ...(r.zones ? { zones: r.zones } : {}), audio: media.ref });
    let envelope: Awaited<ReturnType<typeof issueCommand>>;
    try {
      envelope = await issueCommand(ctx.fleet, ctx.db, { type: 'alert', signer, target, body });
    } catch (e) {
      if (e instanceof CliError) throw fail(403, e.message);
      throw e;
    }
    if (!needsApproval(ctx.fleet, r.test)) {
      await sendBroadcast(ctx.fleet, ctx.db, envelope, { media: [r.media], quiet: true, title: body.title, priority: levelOf(r.test), test: r.test }, await ctx.mqtt());
      const row = await ctx.db.broadcast(envelope.id);
      if (row) ctx.live.broadcast(summarise(row, [], stations));
      await audit(ctx, req, r.test ? 'alert.test' : 'alert.send', envelope.id, 'ok', `${r.title} → ${stations.join(',')}`);
      return { sent: envelope.id, stations };
    }
    const draftPath = await writeDraft(ctx.fleet, ctx.db, {
      envelopes: [envelope],
      media: [r.media],
      needed: ctx.fleet.alertQuorum,
      keyFiles: { [signer.id]: signer.fileId },
      origin: { kind: 'console', user: s.user.name },
    });
    // The stations fetch the clip while the approver decides (controller-cli/draft-prefetch.ts).
    await prefetchFromConsole(ctx, readDraft(draftPath));
    await audit(ctx, req, 'alert.draft', envelope.id, 'ok', `${r.title} → ${stations.join(',')}; needs ${ctx.fleet.alertQuorum} signatures`);
    return { draft: envelope.id, stations, needed: ctx.fleet.alertQuorum };
  });

  /** The second signature: a different user, a different key, the password typed again. */
  app.post('/api/alerts/drafts/:id/approve', async (req) => {
    const s = await requireAction(ctx, req, 'alert.approve');
    const id = (req.params as { id: string }).id;
    const parsed = Approve.safeParse(req.body);
    if (!parsed.success) throw fail(400, 'type your password to approve', { path: 'password' });
    const { file, draft } = findDraft(id);
    const v = view(ctx.fleet, draft);
    if (!inScope(s, v.stations)) throw fail(404, 'no such draft (already sent, or never made)');
    if (v.drafter === s.user.name) {
      await audit(ctx, req, 'alert.approve', id, 'refused', 'own draft');
      throw fail(403, 'you drafted this: a second official must approve it');
    }
    const signer = await reauthenticate(ctx, req, s, parsed.data.password, 'alert.approve');
    let signed: Draft;
    try {
      checkApprover(ctx.fleet, draft, signer);
      signed = await signDraft(draft, signer, () => ctx.db.nextSeq(signer.id, Date.now()));
    } catch (e) {
      if (e instanceof CliError) {
        await audit(ctx, req, 'alert.approve', id, 'refused', e.message);
        throw fail(403, e.message);
      }
      throw e;
    }
    if (!isComplete(signed)) {
      saveDraft(file, signed);
      await prefetchFromConsole(ctx, signed);
      await audit(ctx, req, 'alert.approve', id, 'ok', `signature ${draftSigners(signed).length} of ${signed.needed}`);
      return { signed: draftSigners(signed), needed: signed.needed, sent: null };
    }
    await sendDraft(ctx.fleet, ctx.db, file, signed, { quiet: true, client: await ctx.mqtt() });
    for (const e of signed.envelopes) {
      const row = await ctx.db.broadcast(e.id);
      if (row && e.type === 'alert') ctx.live.broadcast(summarise(row, [], v.stations));
    }
    await audit(ctx, req, 'alert.approve', id, 'ok', `sent with ${draftSigners(signed).join(', ')}`);
    return { signed: draftSigners(signed), needed: signed.needed, sent: v.kind === 'cancel' ? v.cancels : id };
  });

  /**
   * Cancel with a correction in one step: both are signed now; a live alert's cancel waits for
   * a second official like the alert did, a test alert's goes out at once.
   */
  app.post('/api/alerts/:id/cancel', async (req) => {
    const s = await requireAction(ctx, req, 'alert.cancel');
    const id = (req.params as { id: string }).id;
    if (!isId(id)) throw fail(400, 'bad alert id');
    const parsed = Cancel.safeParse(req.body);
    if (!parsed.success) throw fail(400, 'expected {reason, password}', { path: parsed.error.issues[0]?.path.join('.') ?? '' });
    const row = await ctx.db.broadcast(id);
    if (row?.type !== 'alert' || !inScope(s, JSON.parse(row.stations) as string[])) throw fail(404, 'no such alert');
    const signer = await reauthenticate(ctx, req, s, parsed.data.password, 'alert.cancel');
    let correction: ReturnType<typeof storeMedia>;
    if (parsed.data.correctionMedia) {
      const p = storedMediaPath(mediaStoreDir(ctx.fleet), parsed.data.correctionMedia);
      if (!existsSync(p)) throw fail(400, 'the correction clip is not on the server', { path: 'correctionMedia' });
      correction = storeMedia(mediaStoreDir(ctx.fleet), p);
    } else {
      const text = correctionText();
      correction = storeMedia(mediaStoreDir(ctx.fleet), await synthesise(speechCacheDir(ctx.fleet), text, DEFAULT_VOICE), { text, voice: DEFAULT_VOICE });
    }
    let made: Awaited<ReturnType<typeof cancelWithCorrection>>;
    try {
      made = await cancelWithCorrection(ctx.fleet, ctx.db, signer, id, { ...(parsed.data.reason ? { reason: parsed.data.reason } : {}), correction });
    } catch (e) {
      if (e instanceof CliError) throw fail(403, e.message);
      throw e;
    }
    const needed = needsApproval(ctx.fleet, made.test) ? ctx.fleet.alertQuorum : 1;
    const file = await writeDraft(ctx.fleet, ctx.db, {
      envelopes: [made.cancel, made.correction],
      media: [correction.ref.sha256],
      needed,
      keyFiles: { [signer.id]: signer.fileId },
      origin: { kind: 'console', user: s.user.name },
    });
    if (needed > 1) {
      await audit(ctx, req, 'alert.cancel', id, 'ok', `drafted (${basename(file)}): ${parsed.data.reason}`);
      return { draft: made.correction.id, needed };
    }
    await sendDraft(ctx.fleet, ctx.db, file, readDraft(file), { quiet: true, client: await ctx.mqtt() });
    await audit(ctx, req, 'alert.cancel', id, 'ok', `sent: ${parsed.data.reason}`);
    return { sent: made.correction.id, cancelled: id };
  });
}

/** A prefetch hint on the console's connection; without a broker the draft stands and the stations fetch at approval. */
async function prefetchFromConsole(ctx: ConsoleContext, draft: Draft): Promise<void> {
  let client: Awaited<ReturnType<ConsoleContext['mqtt']>>;
  try {
    client = await ctx.mqtt();
  } catch {
    return;
  }
  await prefetchDraft(ctx.fleet, ctx.db, draft, client);
}
