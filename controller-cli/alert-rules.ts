// The rules for alerts and their cancels that the CLI and the console must apply identically.
import { spoken, t } from '../io/i18n.js';
import { AlertBody, EnvelopeShape, type SignedEnvelope } from '../protocol/index.js';
import type { CentralStore } from './central-store.js';
import { issueCommand } from './command-issue.js';
import { CliError } from './errors.js';
import type { Fleet } from './fleet.js';
import type { SigningKey } from './keys.js';
import type { MediaFile } from './media.js';

/** A test alert goes out on one signature; a live one waits for the quorum of different people. */
export const needsApproval = (fleet: Fleet, test: boolean) => !test && fleet.alertQuorum > 1;

/** The spoken correction when the office has no recording of its own. */
export const correctionText = () => spoken('correction');

/**
 * The cancel of an alert and its scripted correction, both signed by `signer`: together they
 * either go out at once (a test) or wait, as one draft, for the second official (a live alert:
 * one stolen key must not silence a real warning).
 */
export async function cancelWithCorrection(
  fleet: Fleet,
  db: CentralStore,
  signer: SigningKey,
  alertId: string,
  o: { reason?: string; correction: MediaFile },
): Promise<{ cancel: SignedEnvelope; correction: SignedEnvelope; test: boolean; target: SignedEnvelope['target'] }> {
  const row = await db.broadcast(alertId);
  if (row?.type !== 'alert') throw new CliError(t('alert.unknownBroadcast', { id: alertId }));
  const original = EnvelopeShape.parse(JSON.parse(row.envelope));
  const originalBody = AlertBody.parse(original.body);
  const cancel = await issueCommand(fleet, db, {
    type: 'cancel',
    signer,
    target: original.target,
    body: { broadcastId: alertId, ...(o.reason ? { reason: o.reason.slice(0, 500) } : {}) },
  });
  const correction = await issueCommand(fleet, db, {
    type: 'alert',
    signer,
    target: original.target,
    body: AlertBody.parse({
      title: spoken('correctionTitle'),
      test: originalBody.test,
      ...(originalBody.zones ? { zones: originalBody.zones } : {}),
      correctionOf: alertId,
      audio: o.correction.ref,
    }),
  });
  return { cancel, correction, test: originalBody.test, target: original.target };
}
