// Drafts: signed (or not yet signed) messages that go out only when enough different people's
// keys have signed them. `loa alert`, `loa alert cancel`, CAP imports and the console all make
// drafts here, and `loa alert approve` (or the console's approve) completes them here.
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { t } from '../io/i18n.js';
import {
  AlertBody,
  checkSignature,
  cosignEnvelope,
  EnvelopeShape,
  publicKeyFingerprint,
  publicKeyFromRaw,
  Signature,
  type SignedEnvelope,
  signEnvelope,
  type UnsignedEnvelope,
} from '../protocol/index.js';
import { sendBroadcast } from './broadcast-send.js';
import type { CentralStore } from './central-store.js';
import { CliError } from './errors.js';
import type { Fleet } from './fleet.js';
import { holdsPrivateKey, publicKeyOf, type SigningKey } from './keys.js';
import { writeGroupFile } from './secret-files.js';
import { planTopics } from './targets.js';

/** An envelope in a draft: signed by none, some or all of the people it needs. */
const DraftEnvelope = EnvelopeShape.extend({ sigs: z.array(Signature).max(8) });
export type DraftEnvelope = z.infer<typeof DraftEnvelope>;

/** Where a draft came from: typed at the command line, or made from a CAP message. */
const Origin = z.union([
  z.strictObject({ kind: z.literal('cli') }),
  z.strictObject({ kind: z.literal('console'), user: z.string().max(64) }),
  z.strictObject({ kind: z.literal('cap'), sender: z.string().max(500), identifier: z.string().max(500), sent: z.string().max(64), summary: z.unknown().optional() }),
]);
export type DraftOrigin = z.infer<typeof Origin>;

const DraftSchema = z.strictObject({
  kind: z.literal('loa-alert-draft'),
  envelopes: z.array(DraftEnvelope).min(1).max(8),
  media: z.array(z.string()),
  createdAt: z.string(),
  /** `<dev>:<inode>` of each signer's key file: approving with the very same file is refused. */
  keyFiles: z.record(z.string(), z.string()).default({}),
  /** Distinct keys that must have signed before it is sent (the fleet's quorum, 1 for a test). */
  needed: z.number().int().min(1).max(8),
  origin: Origin.default({ kind: 'cli' }),
});
export type Draft = z.infer<typeof DraftSchema>;

export const draftsDir = (fleet: Fleet) => join(fleet.centralDir, 'drafts');

/** Broadcast level recorded centrally: a test alert is never an emergency (daemon/playback/policy.ts). */
export const levelOf = (test: boolean) => (test ? 'priority' : 'emergency');

/** The draft's file: named by its last (main) envelope. */
export function draftFile(fleet: Fleet, draft: Pick<Draft, 'envelopes'>): string {
  return join(draftsDir(fleet), `${draft.envelopes[draft.envelopes.length - 1]!.id}.json`);
}

export interface NewDraft {
  envelopes: (SignedEnvelope | DraftEnvelope)[];
  media: string[];
  needed: number;
  keyFiles?: Record<string, string>;
  origin?: DraftOrigin;
}

/** Write a draft (shared with the group, for the second official) and record its alerts centrally as drafts. */
export async function writeDraft(fleet: Fleet, db: CentralStore, d: NewDraft): Promise<string> {
  const draft: Draft = DraftSchema.parse({ kind: 'loa-alert-draft', createdAt: new Date().toISOString(), keyFiles: {}, ...d });
  const file = draftFile(fleet, draft);
  writeGroupFile(file, `${JSON.stringify(draft, null, 2)}\n`);
  const now = Date.now();
  for (const envelope of draft.envelopes) {
    if (envelope.type !== 'alert') continue;
    const body = AlertBody.parse(envelope.body);
    await db.saveBroadcast({
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

export function readDraft(path: string): Draft {
  if (!existsSync(path)) throw new CliError(t('alert.noDraft', { file: path }));
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(t('alert.badDraft', { file: path, reason: (e as Error).message }));
  }
  const r = DraftSchema.safeParse(json);
  if (!r.success) throw new CliError(t('alert.badDraft', { file: path, reason: r.error.issues[0]?.message ?? '' }));
  return r.data;
}

/** Drafts still waiting for signatures, oldest first. */
export function listDrafts(fleet: Fleet): { file: string; draft: Draft }[] {
  const dir = draftsDir(fleet);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.sent.json'))
    .flatMap((f) => {
      try {
        return [{ file: join(dir, f), draft: readDraft(join(dir, f)) }];
      } catch {
        return [];
      }
    })
    .sort((a, b) => a.draft.createdAt.localeCompare(b.draft.createdAt));
}

/** Every signature already on a draft must verify against the fleet's keys: never co-sign a tampered draft. */
function checkExistingSignatures(fleet: Fleet, envelope: DraftEnvelope): void {
  for (const sig of envelope.sigs) {
    const policy = fleet.signers.find((s) => s.key === sig.key);
    if (!policy?.allow.includes(envelope.type)) throw new CliError(t('alert.draftSignerNotAllowed', { key: sig.key }));
    if (!checkSignature(envelope as SignedEnvelope, sig, publicKeyFromRaw(publicKeyOf(fleet, sig.key)))) throw new CliError(t('alert.draftTampered', { key: sig.key }));
  }
}

/**
 * Check that `key` may add the next signature: every signature so far verifies, nothing has
 * expired, and the signer is a different person: not a key already on the draft, not a second
 * name for the same public key, not the very key file a signer used, not an account that also
 * holds a signer's private key.
 */
export function checkApprover(fleet: Fleet, draft: Draft, key: SigningKey): void {
  for (const envelope of draft.envelopes) {
    checkExistingSignatures(fleet, envelope);
    if (Date.parse(envelope.expiresAt) <= Date.now()) throw new CliError(t('alert.draftExpired', { id: envelope.id, at: envelope.expiresAt }));
    // Allowed for every part by the fleet's signer policy (the key itself is already in hand:
    // read from the signer's key directory by the CLI, or opened with their password by the console).
    if (!fleet.signers.some((p) => p.key === key.id && p.allow.includes(envelope.type))) throw new CliError(t('keys.notAllowed', { id: key.id, type: envelope.type }));
  }
  const signers = draftSigners(draft);
  if (signers.includes(key.id)) throw new CliError(t('alert.sameKey', { key: key.id }));
  for (const signer of signers) {
    if (publicKeyFingerprint(publicKeyOf(fleet, signer)) === key.fingerprint) throw new CliError(t('alert.sameKeyOtherName', { key: key.id, other: signer }));
    if (draft.keyFiles[signer] === key.fileId) throw new CliError(t('alert.sameKeyFile', { key: key.id, other: signer, file: key.file }));
    if (holdsPrivateKey(signer)) throw new CliError(t('alert.holdsDrafterKey', { other: signer }));
  }
}

export function draftSigners(draft: Draft): string[] {
  return [...new Set(draft.envelopes.flatMap((e) => e.sigs.map((s) => s.key)))];
}

/**
 * Add `key`'s signature to every envelope. An envelope nobody has signed yet (a CAP draft) gets
 * its issuer, seq and issuedAt from this first signer, since all are part of the signed bytes.
 */
export async function signDraft(draft: Draft, key: SigningKey, nextSeq: () => number | Promise<number>): Promise<Draft> {
  const envelopes: SignedEnvelope[] = [];
  for (const e of draft.envelopes) {
    if (e.sigs.length > 0) {
      envelopes.push(cosignEnvelope(e as SignedEnvelope, key.id, key.pem));
      continue;
    }
    const { sigs: _none, ...unsigned } = e;
    // issuedAt is when the first person signs, not when the draft was made: stations refuse a
    // seq more than an hour past issuedAt, and a CAP warning may wait longer than that.
    const issuedAt = new Date().toISOString();
    envelopes.push(signEnvelope({ ...(unsigned as UnsignedEnvelope), issuer: key.id, seq: await nextSeq(), issuedAt }, key.pem));
  }
  return { ...draft, envelopes, keyFiles: { ...draft.keyFiles, [key.id]: key.fileId } };
}

export function isComplete(draft: Draft): boolean {
  return draft.envelopes.every((e) => e.sigs.length >= draft.needed);
}

/** Save a partly signed draft back. */
export function saveDraft(file: string, draft: Draft): void {
  writeGroupFile(file, `${JSON.stringify(draft, null, 2)}\n`);
}

/**
 * Send a complete draft, in order (a cancel before its correction or replacement), and mark the
 * file sent so the same draft can never be sent twice. Returns the exit code (3: not everyone
 * confirmed within `waitSec`).
 */
export async function sendDraft(
  fleet: Fleet,
  db: CentralStore,
  file: string,
  draft: Draft,
  o: { waitSec?: number; json?: boolean /** The console's open connection; the CLI connects per send. */; client?: MqttClient; quiet?: boolean },
): Promise<number> {
  renameSync(file, `${file.replace(/\.json$/, '')}.sent.json`);
  let code = 0;
  const envelopes = draft.envelopes as SignedEnvelope[];
  for (const envelope of envelopes) {
    const last = envelope === envelopes[envelopes.length - 1];
    const quiet = !last && o.json === true;
    const waitSec = last ? o.waitSec : undefined;
    if (envelope.type === 'cancel') {
      const target = (envelope.body as { broadcastId: string }).broadcastId;
      const row = await db.broadcast(target);
      code = Math.max(
        code,
        await sendBroadcast(
          fleet,
          db,
          envelope,
          {
            media: [],
            ...(waitSec !== undefined ? { waitSec } : {}),
            json: o.json === true,
            title: t('alert.cancelTitle', { id: target }),
            priority: row?.priority ?? 'emergency',
            test: row?.test === 1,
            quiet: quiet || o.quiet === true,
          },
          o.client,
        ),
      );
      if (row) await db.saveBroadcast({ ...row, status: 'cancelled' });
      continue;
    }
    const body = AlertBody.parse(envelope.body);
    code = Math.max(
      code,
      await sendBroadcast(
        fleet,
        db,
        envelope,
        {
          media: draft.media,
          ...(waitSec !== undefined ? { waitSec } : {}),
          json: o.json === true,
          title: body.title,
          priority: levelOf(body.test),
          test: body.test,
          quiet: quiet || o.quiet === true,
        },
        o.client,
      ),
    );
  }
  return code;
}
