import { resolve } from 'node:path';
import { t } from '../io/i18n.js';
import { AlertBody, type SignedEnvelope } from '../protocol/index.js';
import { cancelWithCorrection, correctionText, needsApproval } from './alert-rules.js';
import { audioFromArgs } from './audio-source.js';
import { sendBroadcast } from './broadcast-send.js';
import { openCentralStore } from './central-store.js';
import { issueCommand } from './command-issue.js';
import { prefetchDraft } from './draft-prefetch.js';
import { checkApprover, isComplete, levelOf, readDraft, saveDraft, sendDraft, signDraft, writeDraft } from './drafts.js';
import { CliError, UsageError } from './errors.js';
import type { Fleet } from './fleet.js';
import { signingKey } from './keys.js';
import { intOption, zonesOption } from './options.js';
import { resolveTargets } from './targets.js';

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
  const db = await openCentralStore(fleet);
  try {
    const key = signingKey(fleet, o.key, 'alert');
    const envelope = await issueCommand(fleet, db, { type: 'alert', key: key.id, target: resolved.target, body });
    if (!needsApproval(fleet, test)) {
      return await sendBroadcast(fleet, db, envelope, {
        media: [media.ref.sha256],
        ...(waitSec !== undefined ? { waitSec } : {}),
        json: o.json === true,
        title: body.title,
        priority: levelOf(test),
        test,
      });
    }
    const file = await writeDraft(fleet, db, { envelopes: [envelope], media: [media.ref.sha256], needed: fleet.alertQuorum, keyFiles: { [key.id]: key.fileId } });
    // The stations fetch the clip while the second official decides (draft-prefetch.ts).
    await prefetchDraft(fleet, db, readDraft(file));
    printDrafted(o.json === true, envelope, file, fleet.alertQuorum);
    return 0;
  } finally {
    await db.close();
  }
}

function printDrafted(json: boolean, envelope: SignedEnvelope, file: string, quorum: number): void {
  if (json) process.stdout.write(JSON.stringify({ id: envelope.id, draft: file, signatures: envelope.sigs.map((s) => s.key), needed: quorum }, null, 2) + '\n');
  else process.stdout.write(t('alert.drafted', { id: envelope.id, file, needed: quorum - envelope.sigs.length }) + '\n');
}

/**
 * The second official's signature (or a further one, for a quorum above two). Refused when it
 * would not be a second person (drafts.ts checkApprover). When the draft has enough signatures
 * it is sent at once, in order.
 */
export async function approveAlert(fleet: Fleet, draftPath: string, o: { key?: string; wait?: string; json?: boolean }): Promise<number> {
  const waitSec = intOption(o.wait, '--wait', 0, 86_400);
  const file = resolve(draftPath);
  const draft = readDraft(file);
  if (!o.key) throw new UsageError(t('alert.approveNeedsKey'));
  const key = signingKey(fleet, o.key, draft.envelopes[0]!.type);
  checkApprover(fleet, draft, key);
  for (const envelope of draft.envelopes) {
    const body = envelope.type === 'alert' ? AlertBody.parse(envelope.body) : undefined;
    process.stderr.write(
      `${t('alert.approving', {
        type: envelope.type,
        id: envelope.id,
        title: body?.title ?? JSON.stringify(envelope.body),
        test: String(body?.test ?? false),
        target: JSON.stringify(envelope.target),
        expires: envelope.expiresAt,
      })}\n`,
    );
  }
  const db = await openCentralStore(fleet);
  try {
    const signed = await signDraft(draft, key, () => db.nextSeq(key.id, Date.now()));
    if (!isComplete(signed)) {
      saveDraft(file, signed);
      await prefetchDraft(fleet, db, signed);
      printDrafted(o.json === true, signed.envelopes[signed.envelopes.length - 1]! as SignedEnvelope, file, signed.needed);
      return 0;
    }
    return await sendDraft(fleet, db, file, signed, { ...(waitSec !== undefined ? { waitSec } : {}), json: o.json === true });
  } finally {
    await db.close();
  }
}

/**
 * Stop an alert everywhere it was sent and air the scripted correction. Stopping a live alert
 * is as serious as sending it (one stolen key must not silence a real warning), so the cancel
 * and its correction are drafted together and go out when a second official approves them.
 * A test alert is cancelled at once by one key.
 */
export async function cancelAlert(fleet: Fleet, id: string, o: { key?: string; reason?: string; wait?: string; json?: boolean; correctionAudio?: string }): Promise<number> {
  const waitSec = intOption(o.wait, '--wait', 0, 86_400);
  const db = await openCentralStore(fleet);
  try {
    if ((await db.broadcast(id))?.type !== 'alert') throw new CliError(t('alert.unknownBroadcast', { id }));
    const key = signingKey(fleet, o.key, 'cancel');
    signingKey(fleet, key.id, 'alert'); // the correction is an alert from the same key
    // A recorded correction, when the office has one, instead of synthesised speech.
    const media = await audioFromArgs(fleet, o.correctionAudio, o.correctionAudio ? undefined : correctionText());
    const { cancel, correction, test } = await cancelWithCorrection(fleet, db, key, id, { ...(o.reason ? { reason: o.reason } : {}), correction: media });
    if (needsApproval(fleet, test)) {
      const file = await writeDraft(fleet, db, { envelopes: [cancel, correction], media: [media.ref.sha256], needed: fleet.alertQuorum, keyFiles: { [key.id]: key.fileId } });
      if (o.json) process.stdout.write(JSON.stringify({ id: cancel.id, cancels: id, correction: correction.id, draft: file, needed: fleet.alertQuorum }, null, 2) + '\n');
      else process.stdout.write(t('alert.cancelDrafted', { id, file }) + '\n');
      return 0;
    }
    // A test alert: one key is enough, so the same two messages go out at once.
    const file = await writeDraft(fleet, db, { envelopes: [cancel, correction], media: [media.ref.sha256], needed: 1, keyFiles: { [key.id]: key.fileId } });
    return await sendDraft(fleet, db, file, readDraft(file), { ...(waitSec !== undefined ? { waitSec } : {}), json: o.json === true });
  } finally {
    await db.close();
  }
}
