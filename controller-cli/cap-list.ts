// `loa cap drafts`: the CAP drafts waiting for approval, with what `loa alert approve` does not
// print: the sender, urgency and severity, the areas, and the text in the other languages.
import { t } from '../io/i18n.js';
import { AlertBody } from '../protocol/index.js';
import { draftSigners, listDrafts } from './drafts.js';
import type { Fleet } from './fleet.js';
import { printJson, printTable } from './output.js';
import { planTopics } from './targets.js';

interface Summary {
  status?: string;
  msgType?: string;
  urgency?: string | null;
  severity?: string | null;
  certainty?: string | null;
  headline?: string | null;
  text?: string | null;
  language?: string | null;
  areaDescs?: string[];
  otherLanguages?: unknown[];
  audio?: { source?: string; problem?: string } | null;
  cancels?: { broadcastId: string }[];
}

export async function capDrafts(fleet: Fleet, o: { json?: boolean }): Promise<number> {
  const rows = (await listDrafts(fleet)).flatMap(({ file, draft }) => {
    if (draft.origin.kind !== 'cap') return [];
    const s = (draft.origin.summary ?? {}) as Summary;
    const main = draft.envelopes[draft.envelopes.length - 1]!;
    const alert = draft.envelopes.find((e) => e.type === 'alert');
    const body = alert ? AlertBody.safeParse(alert.body) : undefined;
    return [
      {
        draft: file,
        id: main.id,
        sender: draft.origin.sender,
        identifier: draft.origin.identifier,
        sent: draft.origin.sent,
        status: s.status ?? null,
        msgType: s.msgType ?? null,
        test: body?.success ? body.data.test : false,
        urgency: s.urgency ?? null,
        severity: s.severity ?? null,
        certainty: s.certainty ?? null,
        headline: s.headline ?? null,
        text: s.text ?? null,
        language: s.language ?? null,
        areaDescs: s.areaDescs ?? [],
        otherLanguages: s.otherLanguages ?? [],
        stations: [...new Set(draft.envelopes.flatMap((e) => planTopics(fleet, e.target).stations))],
        cancels: (s.cancels ?? []).map((c) => c.broadcastId),
        audio: s.audio ?? null,
        signatures: draftSigners(draft),
        needed: draft.needed,
        expiresAt: main.expiresAt,
      },
    ];
  });
  if (o.json) {
    printJson(rows);
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write(`${t('cap.noDrafts')}\n`);
    return 0;
  }
  printTable(
    [t('cap.col.draft'), t('cap.col.message'), t('cap.col.urgency'), t('cap.col.headline'), t('cap.col.stations'), t('cap.col.signed'), t('cap.col.expires')],
    rows.map((r) => [
      r.draft,
      `${r.msgType ?? ''} ${r.status ?? ''}${r.test ? ' (test)' : ''}: ${r.identifier}`,
      `${r.urgency ?? '-'}/${r.severity ?? '-'}`,
      r.headline ?? (r.cancels.length > 0 ? `cancel ${r.cancels.join(', ')}` : ''),
      r.stations.length,
      `${r.signatures.length}/${r.needed}`,
      r.expiresAt,
    ]),
  );
  return 0;
}
