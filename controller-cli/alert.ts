import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  AlertBody,
  EnvelopeShape,
  checkSignature,
  cosignEnvelope,
  publicKeyFromRaw,
  type SignedEnvelope,
} from '../protocol/index.js';
import { spoken, t } from '../io/i18n.js';
import { audioFromArgs, withSpokenPreamble } from './audio-source.js';
import { sendBroadcast } from './broadcast-send.js';
import { CentralDb } from './central-db.js';
import { issueCommand } from './command-issue.js';
import { CliError, UsageError } from './errors.js';
import type { Fleet } from './fleet.js';
import { publicKeyOf, signingKey } from './keys.js';
import { intOption, zonesOption } from './announce.js';
import { writeSecretFile } from './secret-files.js';
import { planTopics, resolveTargets } from './targets.js';
import type { MediaFile } from './media.js';

export interface AlertOptions {
  text?: string;
  to: string;
  test?: boolean;
  title?: string;
  zones?: string;
  repeat?: string;
  wait?: string;
  key?: string;
  json?: boolean;
}

const Draft = z.strictObject({
  kind: z.literal('loa-alert-draft'),
  envelope: EnvelopeShape,
  media: z.array(z.string()),
  createdAt: z.string(),
});
type Draft = z.infer<typeof Draft>;

const draftsDir = (fleet: Fleet) => join(fleet.centralDir, 'drafts');

/**
 * A test alert goes out at once with one signature. A live alert is only drafted here: it goes
 * out when a second person approves it with their own key (`loa alert approve`), because a
 * forged or mistaken emergency alert is the worst thing this system can do.
 */
export async function alert(fleet: Fleet, audio: string | undefined, o: AlertOptions): Promise<number> {
  const resolved = resolveTargets(fleet, o.to);
  const repeat = intOption(o.repeat, '--repeat', 1, 20);
  const waitSec = intOption(o.wait, '--wait', 0, 86_400);
  const zones = zonesOption(o.zones);
  let media: MediaFile = await audioFromArgs(fleet, audio, o.text);
  if (o.test) media = await withSpokenPreamble(fleet, spoken('testPreamble'), media, o.text);
  const body = AlertBody.parse({
    title: o.title ?? (o.text ? o.text.slice(0, 200) : ''),
    test: o.test === true,
    ...(zones ? { zones } : {}),
    repeat: repeat ?? 1,
    audio: media.ref,
  });
  const db = new CentralDb(fleet.database);
  try {
    const envelope = issueCommand(fleet, db, { type: 'alert', key: o.key, target: resolved.target, body });
    if (o.test || fleet.alertQuorum <= 1) {
      return await sendBroadcast(fleet, db, envelope, {
        media: [media.ref.sha256],
        ...(waitSec !== undefined ? { waitSec } : {}),
        json: o.json === true,
        title: body.title,
        priority: 'emergency',
        test: body.test,
      });
    }
    const file = writeDraft(fleet, db, envelope, [media.ref.sha256], body.title);
    if (o.json) process.stdout.write(JSON.stringify({ id: envelope.id, draft: file, signatures: envelope.sigs.map((s) => s.key), needed: fleet.alertQuorum }, null, 2) + '\n');
    else process.stdout.write(t('alert.drafted', { id: envelope.id, file, needed: fleet.alertQuorum - envelope.sigs.length }) + '\n');
    return 0;
  } finally {
    db.close();
  }
}

function writeDraft(fleet: Fleet, db: CentralDb, envelope: SignedEnvelope, media: string[], title: string): string {
  const file = join(draftsDir(fleet), `${envelope.id}.json`);
  const draft: Draft = { kind: 'loa-alert-draft', envelope, media, createdAt: new Date().toISOString() };
  writeSecretFile(file, JSON.stringify(draft, null, 2) + '\n');
  const now = Date.now();
  db.saveBroadcast({
    id: envelope.id, type: 'alert', status: 'draft', created_at: now, sent_at: null, planned_at: null, title,
    priority: 'emergency', test: 0, stations: JSON.stringify(planTopics(fleet, envelope.target).stations), envelope: JSON.stringify(envelope),
  });
  return file;
}

function readDraft(path: string): Draft {
  if (!existsSync(path)) throw new CliError(t('alert.noDraft', { file: path }));
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(t('alert.badDraft', { file: path, reason: (e as Error).message }));
  }
  const r = Draft.safeParse(json);
  if (!r.success) throw new CliError(t('alert.badDraft', { file: path, reason: r.error.issues[0]?.message ?? '' }));
  return r.data;
}

/** Every signature already on a draft must verify against the fleet's keys: never co-sign a tampered draft. */
function checkExistingSignatures(fleet: Fleet, envelope: SignedEnvelope): void {
  for (const sig of envelope.sigs) {
    const policy = fleet.signers.find((s) => s.key === sig.key);
    if (!policy || !policy.allow.includes(envelope.type)) throw new CliError(t('alert.draftSignerNotAllowed', { key: sig.key }));
    if (!checkSignature(envelope, sig, publicKeyFromRaw(publicKeyOf(fleet, sig.key)))) throw new CliError(t('alert.draftTampered', { key: sig.key }));
  }
}

export async function approveAlert(fleet: Fleet, draftPath: string, o: { key?: string; wait?: string; json?: boolean }): Promise<number> {
  const waitSec = intOption(o.wait, '--wait', 0, 86_400);
  const file = resolve(draftPath);
  const draft = readDraft(file);
  const envelope = draft.envelope;
  checkExistingSignatures(fleet, envelope);
  if (Date.parse(envelope.expiresAt) <= Date.now()) throw new CliError(t('alert.draftExpired', { id: envelope.id, at: envelope.expiresAt }));
  if (!o.key) throw new UsageError(t('alert.approveNeedsKey'));
  if (envelope.sigs.some((s) => s.key === o.key)) throw new CliError(t('alert.sameKey', { key: o.key }));
  const key = signingKey(fleet, o.key, 'alert');
  const body = AlertBody.parse(envelope.body);
  process.stderr.write(t('alert.approving', { id: envelope.id, title: body.title, test: String(body.test), target: JSON.stringify(envelope.target) }) + '\n');
  const signed = cosignEnvelope(envelope, key.id, key.pem);
  const db = new CentralDb(fleet.database);
  try {
    if (signed.sigs.length < fleet.alertQuorum) {
      writeSecretFile(file, JSON.stringify({ ...draft, envelope: signed }, null, 2) + '\n');
      process.stdout.write(t('alert.drafted', { id: signed.id, file, needed: fleet.alertQuorum - signed.sigs.length }) + '\n');
      return 0;
    }
    const code = await sendBroadcast(fleet, db, signed, {
      media: draft.media,
      ...(waitSec !== undefined ? { waitSec } : {}),
      json: o.json === true,
      title: body.title,
      priority: 'emergency',
      test: body.test,
    });
    // Keep the signed record, but make sure the same draft cannot be approved and sent twice.
    renameSync(file, file.replace(/\.json$/, '') + '.sent.json');
    return code;
  } finally {
    db.close();
  }
}

/**
 * Stop an alert everywhere it was sent, then air the scripted correction. A live correction is
 * itself an alert and needs the quorum: with `--cosign` it goes out now, otherwise it is drafted.
 */
export async function cancelAlert(
  fleet: Fleet,
  id: string,
  o: { key?: string; cosign?: string; reason?: string; wait?: string; json?: boolean; correctionAudio?: string },
): Promise<number> {
  const waitSec = intOption(o.wait, '--wait', 0, 86_400);
  const db = new CentralDb(fleet.database);
  try {
    const row = db.broadcast(id);
    if (!row || row.type !== 'alert') throw new CliError(t('alert.unknownBroadcast', { id }));
    const original = EnvelopeShape.parse(JSON.parse(row.envelope));
    const originalBody = AlertBody.parse(original.body);
    const cancel = issueCommand(fleet, db, {
      type: 'cancel',
      key: o.key,
      target: original.target,
      body: { broadcastId: id, ...(o.reason ? { reason: o.reason.slice(0, 500) } : {}) },
    });
    const correctionText = spoken('correction');
    // A recorded correction, when the office has one, instead of synthesised speech.
    const media = await audioFromArgs(fleet, o.correctionAudio, o.correctionAudio ? undefined : correctionText);
    const correction = issueCommand(fleet, db, {
      type: 'alert',
      key: o.key,
      target: original.target,
      body: AlertBody.parse({
        title: spoken('correctionTitle'),
        test: originalBody.test,
        ...(originalBody.zones ? { zones: originalBody.zones } : {}),
        correctionOf: id,
        audio: media.ref,
      }),
    });
    const cancelCode = await sendBroadcast(fleet, db, cancel, {
      media: [],
      ...(waitSec !== undefined && o.cosign === undefined && originalBody.test === false ? { waitSec } : {}),
      json: o.json === true,
      title: t('alert.cancelTitle', { id }),
      priority: 'emergency',
      test: originalBody.test,
    });
    db.saveBroadcast({ ...row, status: 'cancelled' });
    let signed = correction;
    if (!originalBody.test && fleet.alertQuorum > 1) {
      if (o.cosign === undefined) {
        const file = writeDraft(fleet, db, correction, [media.ref.sha256], spoken('correctionTitle'));
        process.stdout.write(t('alert.correctionDrafted', { file }) + '\n');
        return cancelCode;
      }
      if (o.cosign === correction.issuer) throw new CliError(t('alert.sameKey', { key: o.cosign }));
      const second = signingKey(fleet, o.cosign, 'alert');
      signed = cosignEnvelope(correction, second.id, second.pem);
    }
    return await sendBroadcast(fleet, db, signed, {
      media: [media.ref.sha256],
      ...(waitSec !== undefined ? { waitSec } : {}),
      json: o.json === true,
      title: spoken('correctionTitle'),
      priority: 'emergency',
      test: originalBody.test,
    });
  } finally {
    db.close();
  }
}
