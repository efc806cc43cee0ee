import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { mediaStoreDir, speechCacheDir } from '../../../controller-cli/audio-source.js';
import { storedMediaPath, storeMedia } from '../../../controller-cli/media.js';
import { DEFAULT_VOICE, synthesise } from '../../../controller-cli/speech.js';
import { isSha256, MAX_MEDIA_BYTES } from '../../../protocol/index.js';
import type { MediaInfo } from '../../shared/api.js';
import { audit, type ConsoleContext, fail, requireAction, requireAny } from '../context.js';
import { mimeOf, ProbeError, probeAudioFile } from '../probe.js';

/** Longest clip the console takes: an hour, as the stations' default cache.maxClipMinutes. */
export const MAX_CLIP_SEC = 3600;

const AUDIO_TYPES = [
  'application/octet-stream',
  'audio/wav',
  'audio/x-wav',
  'audio/wave',
  'audio/mpeg',
  'audio/ogg',
  'audio/webm',
  'audio/mp4',
  'audio/aac',
  'audio/flac',
  'video/webm',
];

const Speech = z.strictObject({
  text: z.string().trim().min(1).max(5000),
  voice: z
    .string()
    .regex(/^[A-Za-z0-9+_-]{1,32}$/)
    .optional(),
});

/** Making audio is part of announcing, scheduling or drafting an alert: any of them will do. */
const requireAudioAction = (ctx: ConsoleContext, req: FastifyRequest) => requireAny(ctx, req, ['announce', 'schedule', 'live', 'alert.draft', 'alert.cancel']);

export async function mediaRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const probed = new Map<string, { mime: string }>();
  app.addContentTypeParser(AUDIO_TYPES, { parseAs: 'buffer', bodyLimit: MAX_MEDIA_BYTES }, (_req, body, done) => done(null, body));

  /** Raw audio in the body (a chosen file or a browser recording), checked with ffprobe, then stored. */
  app.post('/api/media', { bodyLimit: MAX_MEDIA_BYTES }, async (req) => {
    await requireAudioAction(ctx, req);
    const body = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw fail(400, 'send the audio as the request body (Content-Type audio/* or application/octet-stream)');
    const dir = join(ctx.fleet.centralDir, 'uploads');
    mkdirSync(dir, { recursive: true, mode: 0o770 });
    const tmp = join(dir, `${randomBytes(8).toString('hex')}.upload`);
    writeFileSync(tmp, body, { mode: 0o640 });
    try {
      const p = await probeAudioFile(tmp, MAX_CLIP_SEC);
      const stored = storeMedia(mediaStoreDir(ctx.fleet), tmp);
      probed.set(stored.ref.sha256, { mime: mimeOf(p.format) });
      await audit(ctx, req, 'media.upload', stored.ref.sha256, 'ok', `${body.length} bytes, ${p.durationSec} s, ${p.codec}`);
      const info: MediaInfo = { sha256: stored.ref.sha256, bytes: stored.ref.size, durationSec: p.durationSec, codec: p.codec, text: null };
      return info;
    } catch (e) {
      if (e instanceof ProbeError) {
        await audit(ctx, req, 'media.upload', null, 'refused', e.message);
        throw fail(422, e.message);
      }
      throw e;
    } finally {
      rmSync(tmp, { force: true });
    }
  });

  /** Vietnamese text made speech on the server (espeak-ng), stored like any clip, for the preview player. */
  app.post('/api/speech', async (req) => {
    await requireAudioAction(ctx, req);
    const parsed = Speech.safeParse(req.body);
    if (!parsed.success) throw fail(400, 'expected {text} of 1 to 5000 characters', { path: 'text' });
    const voice = parsed.data.voice ?? DEFAULT_VOICE;
    const wav = await synthesise(speechCacheDir(ctx.fleet), parsed.data.text, voice);
    const stored = storeMedia(mediaStoreDir(ctx.fleet), wav, { text: parsed.data.text, voice });
    const p = await probeAudioFile(stored.path, MAX_CLIP_SEC);
    probed.set(stored.ref.sha256, { mime: 'audio/wav' });
    const info: MediaInfo = { sha256: stored.ref.sha256, bytes: stored.ref.size, durationSec: p.durationSec, codec: p.codec, text: parsed.data.text };
    return info;
  });

  app.get('/api/media/:sha', async (req, reply) => {
    await requireAction(ctx, req, 'view');
    const sha = (req.params as { sha: string }).sha;
    if (!isSha256(sha)) throw fail(400, 'bad media id');
    const path = storedMediaPath(mediaStoreDir(ctx.fleet), sha);
    if (!existsSync(path)) throw fail(404, 'no such clip');
    let mime = probed.get(sha)?.mime;
    if (!mime) {
      mime = await probeAudioFile(path, 24 * 3600).then(
        (p) => mimeOf(p.format),
        () => 'application/octet-stream',
      );
      probed.set(sha, { mime });
    }
    reply.header('cache-control', 'private, max-age=86400, immutable');
    return reply.type(mime).send(createReadStream(path));
  });
}
