import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { spoken, t } from '../io/i18n.js';
import { AlertBody, checkSignature, cosignEnvelope, EnvelopeShape, publicKeyFingerprint, publicKeyFromRaw, type SignedEnvelope } from '../protocol/index.js';
import { audioFromArgs } from './audio-source.js';
import { sendBroadcast } from './broadcast-send.js';
import { CentralDb } from './central-db.js';
import { issueCommand } from './command-issue.js';
import { CliError, UsageError } from './errors.js';
import type { Fleet } from './fleet.js';
import { holdsPrivateKey, publicKeyOf, signingKey } from './keys.js';
import { intOption, zonesOption } from './options.js';
import { writeGroupFile } from './secret-files.js';
import { planTopics, resolveTargets } from './targets.js';

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

/**
 * A draft: the signed messages a second official must approve together (a live alert; or the
 * cancel of a live alert and its correction), with the media they need and who signed where.
 */
const Draft = z.strictObject({
  kind: z.literal('loa-alert-draft'),
  envelopes: z.array(EnvelopeShape).min(1).max(4),
  media: z.array(z.string()),
  createdAt: z.string(),
  /** `<dev>:<inode>` of each signer's key file: approving with the very same file is refused. */
  keyFiles: z.record(z.string(), z.string()).default({}),
});
type Draft = z.infer<typeof Draft>;

const draftsDir = (fleet: Fleet) => join(fleet.centralDir, 'drafts');

/** Broadcast level recorded centrally: a test alert is never an emergency (daemon/playback/policy.ts). */
const levelOf = (test: boolean) => (test ? 'priority' : 'emergency');

/**
 * A test alert goes out at once with one signature: every station puts its own "this is a
 * test" preamble before it and plays it as a priority item, never as an emergency. A live alert
 * is only drafted here: it goes out when a second official approves it with a different key
 * (`loa alert approve`), because a forged or mistaken emergency alert is the worst thing this
 * system can do.
 */
export async function alert(fleet: Fleet, audio: string | undefined, o: AlertOptions): Promise<number> {
  const resolved = resolveTargets(fleet, o.to);
  const repeat = intOption(o.repeat, '--repeat', 1, 20);
  const waitSec = intOption(o.wait, '--wait', 0, 86_400);
  const zones = zonesOption(o.zones);
  const media = await audioFromArgs(fleet, audio, o.text);
  const test = o.test === true;
  const body = AlertBody.parse({
    title: o.title ?? (o.text ? o.text.slice(0, 200) : ''),
    test,
    ...(zones ? { zones } : {}),
    repeat: repeat ?? 1,
    audio: media.ref,
  });
  const db = new CentralDb(fleet.database);
  try {
    const key = signingKey(fleet, o.key, 'alert');
    const envelope = issueCommand(fleet, db, { type: 'alert', key: key.id, target: resolved.target, body });
    if (test || fleet.alertQuorum <= 1) {
      return await sendBroadcast(fleet, db, envelope, {
        media: [media.ref.sha256],
        ...(waitSec !== undefined ? { waitSec } : {}),
        json: o.json === true,
        title: body.title,
        priority: levelOf(test),
        test,
      });
    }
    const file = writeDraft(fleet, db, [envelope], [media.ref.sha256], { [key.id]: key.fileId });
    printDrafted(o.json === true, envelope, file, fleet.alertQuorum);
    return 0;
  } finally {
    db.close();
  }
}

function printDrafted(json: boolean, envelope: SignedEnvelope, file: string, quorum: number): void {
  if (json) process.stdout.write(JSON.stringify({ id: envelope.id, draft: file, signatures: envelope.sigs.map((s) => s.key), needed: quorum }, null, 2) + '\n');
  else process.stdout.write(t('alert.drafted', { id: envelope.id, file, needed: quorum - envelope.sigs.length }) + '\n');
}

function writeDraft(fleet: Fleet, db: CentralDb, envelopes: SignedEnvelope[], media: string[], keyFiles: Record<string, string>): string {
  const main = envelopes[envelopes.length - 1]!;
  const file = join(draftsDir(fleet), `${main.id}.json`);
  const draft: Draft = { kind: 'loa-alert-draft', envelopes, media, createdAt: new Date().toISOString(), keyFiles };
  // Drafts are for the second official's account to read and approve: shared with the group.
  writeGroupFile(file, JSON.stringify(draft, null, 2) + '\n');
  const now = Date.now();
  for (const envelope of envelopes) {
    if (envelope.type !== 'alert') continue;
    const body = AlertBody.parse(envelope.body);
    db.saveBroadcast({
      id: envelope.id,
      type: 'alert',
      status: 'draft',
      created_at: now,
      sent_at: null,
      planned_at: null,
      title: body.title,
      priority: levelOf(body.test),
      test: body.test ? 1 : 0,
      stations: JSON.stringify(planTopics(fleet, envelope.target).stations),
      envelope: JSON.stringify(envelope),
    });
  }
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
    if (!policy?.allow.includes(envelope.type)) throw new CliError(t('alert.draftSignerNotAllowed', { key: sig.key }));
    if (!checkSignature(envelope, sig, publicKeyFromRaw(publicKeyOf(fleet, sig.key)))) throw new CliError(t('alert.draftTampered', { key: sig.key }));
  }
}

/**
 * The second official's signature. Refused when it would not be a second person: the same key
 * (under any name), the same key file, or an account that also holds a signer's private key.
 */
export async function approveAlert(fleet: Fleet, draftPath: string, o: { key?: string; wait?: string; json?: boolean }): Promise<number> {
  const waitSec = intOption(o.wait, '--wait', 0, 86_400);
  const file = resolve(draftPath);
  const draft = readDraft(file);
  if (!o.key) throw new UsageError(t('alert.approveNeedsKey'));
  for (const envelope of draft.envelopes) {
    checkExistingSignatures(fleet, envelope);
    if (Date.parse(envelope.expiresAt) <= Date.now()) throw new CliError(t('alert.draftExpired', { id: envelope.id, at: envelope.expiresAt }));
  }
  const signers = [...new Set(draft.envelopes.flatMap((e) => e.sigs.map((s) => s.key)))];
  if (signers.includes(o.key)) throw new CliError(t('alert.sameKey', { key: o.key }));
  const key = signingKey(fleet, o.key, draft.envelopes[0]!.type);
  for (const envelope of draft.envelopes) signingKey(fleet, o.key, envelope.type); // allowed for every part
  for (const signer of signers) {
    if (publicKeyFingerprint(publicKeyOf(fleet, signer)) === key.fingerprint) throw new CliError(t('alert.sameKeyOtherName', { key: key.id, other: signer }));
    if (draft.keyFiles[signer] === key.fileId) throw new CliError(t('alert.sameKeyFile', { key: key.id, other: signer, file: key.file }));
    if (holdsPrivateKey(signer)) throw new CliError(t('alert.holdsDrafterKey', { other: signer }));
  }
  for (const envelope of draft.envelopes) {
    const body = envelope.type === 'alert' ? AlertBody.parse(envelope.body) : undefined;
    process.stderr.write(
      t('alert.approving', {
        type: envelope.type,
        id: envelope.id,
        title: body?.title ?? JSON.stringify(envelope.body),
        test: String(body?.test ?? false),
        target: JSON.stringify(envelope.target),
        expires: envelope.expiresAt,
      }) + '\n',
    );
  }
  const signed = draft.envelopes.map((e) => cosignEnvelope(e, key.id, key.pem));
  const db = new CentralDb(fleet.database);
  try {
    if (signed[0]!.sigs.length < fleet.alertQuorum) {
      writeGroupFile(file, JSON.stringify({ ...draft, envelopes: signed, keyFiles: { ...draft.keyFiles, [key.id]: key.fileId } }, null, 2) + '\n');
      printDrafted(o.json === true, signed[signed.length - 1]!, file, fleet.alertQuorum);
      return 0;
    }
    // Keep the signed record, but make sure the same draft cannot be approved and sent twice.
    renameSync(file, file.replace(/\.json$/, '') + '.sent.json');
    let code = 0;
    for (const envelope of signed) {
      const last = envelope === signed[signed.length - 1];
      if (envelope.type === 'cancel') {
        code = Math.max(code, await sendCancel(fleet, db, envelope, last ? waitSec : undefined, o.json === true, !last && o.json === true));
        continue;
      }
      const body = AlertBody.parse(envelope.body);
      code = Math.max(
        code,
        await sendBroadcast(fleet, db, envelope, {
          media: draft.media,
          ...(last && waitSec !== undefined ? { waitSec } : {}),
          json: o.json === true,
          title: body.title,
          priority: levelOf(body.test),
          test: body.test,
          quiet: !last && o.json === true,
        }),
      );
    }
    return code;
  } finally {
    db.close();
  }
}

async function sendCancel(fleet: Fleet, db: CentralDb, cancel: SignedEnvelope, waitSec: number | undefined, json: boolean, quiet = false): Promise<number> {
  const target = (cancel.body as { broadcastId: string }).broadcastId;
  const row = db.broadcast(target);
  const code = await sendBroadcast(fleet, db, cancel, {
    media: [],
    ...(waitSec !== undefined ? { waitSec } : {}),
    json,
    title: t('alert.cancelTitle', { id: target }),
    priority: row?.priority ?? 'emergency',
    test: row?.test === 1,
    quiet,
  });
  if (row) db.saveBroadcast({ ...row, status: 'cancelled' });
  return code;
}

/**
 * Stop an alert everywhere it was sent and air the scripted correction. Stopping a live alert
 * is as serious as sending it (one stolen key must not silence a real warning), so the cancel
 * and its correction are drafted together and go out when a second official approves them.
 * A test alert is cancelled at once by one key.
 */
export async function cancelAlert(fleet: Fleet, id: string, o: { key?: string; reason?: string; wait?: string; json?: boolean; correctionAudio?: string }): Promise<number> {
  const waitSec = intOption(o.wait, '--wait', 0, 86_400);
  const db = new CentralDb(fleet.database);
  try {
    const row = db.broadcast(id);
    if (row?.type !== 'alert') throw new CliError(t('alert.unknownBroadcast', { id }));
    const original = EnvelopeShape.parse(JSON.parse(row.envelope));
    const originalBody = AlertBody.parse(original.body);
    const key = signingKey(fleet, o.key, 'cancel');
    signingKey(fleet, key.id, 'alert'); // the correction is an alert from the same key
    const cancel = issueCommand(fleet, db, {
      type: 'cancel',
      key: key.id,
      target: original.target,
      body: { broadcastId: id, ...(o.reason ? { reason: o.reason.slice(0, 500) } : {}) },
    });
    // A recorded correction, when the office has one, instead of synthesised speech.
    const media = await audioFromArgs(fleet, o.correctionAudio, o.correctionAudio ? undefined : spoken('correction'));
    const correction = issueCommand(fleet, db, {
      type: 'alert',
      key: key.id,
      target: original.target,
      body: AlertBody.parse({
        title: spoken('correctionTitle'),
        test: originalBody.test,
        ...(originalBody.zones ? { zones: originalBody.zones } : {}),
        correctionOf: id,
        audio: media.ref,
      }),
    });
    if (!originalBody.test && fleet.alertQuorum > 1) {
      const file = writeDraft(fleet, db, [cancel, correction], [media.ref.sha256], { [key.id]: key.fileId });
      if (o.json) process.stdout.write(JSON.stringify({ id: cancel.id, cancels: id, correction: correction.id, draft: file, needed: fleet.alertQuorum }, null, 2) + '\n');
      else process.stdout.write(t('alert.cancelDrafted', { id, file }) + '\n');
      return 0;
    }
    const cancelCode = await sendCancel(fleet, db, cancel, undefined, o.json === true, o.json === true);
    const code = await sendBroadcast(fleet, db, correction, {
      media: [media.ref.sha256],
      ...(waitSec !== undefined ? { waitSec } : {}),
      json: o.json === true,
      title: spoken('correctionTitle'),
      priority: levelOf(originalBody.test),
      test: originalBody.test,
    });
    return Math.max(cancelCode, code);
  } finally {
    db.close();
  }
}
