// `loa cap import`: CAP messages (files, URLs, Atom/RSS indexes of them) → Loa alert drafts.
// The pure part (parse, plan, envelopes) is in cap/; this file reads sources, resolves what
// earlier messages became, makes the audio and writes the drafts. `loa cap watch` uses the same
// handleDocuments for what it finds.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { t } from '../io/i18n.js';
import { DEFAULT_TTL_MS } from '../protocol/index.js';
import { type CapCancelTarget, capAlertExpiry, capBroadcastId, capEnvelopes } from './cap/envelopes.js';
import { classifySource, DEFAULT_MAX_INDEX_BYTES, type FeedEntry } from './cap/feed.js';
import { type CapAction, type CapContext, type CapPlan, planCapMessage } from './cap/map.js';
import { type CapAlert, type CapMsgType, type CapReference, type CapStatus, capTimeMs, DEFAULT_MAX_CAP_BYTES, parseCap } from './cap/parse.js';
import { capTemplate } from './cap/template.js';
import { type CapAudioSummary, capAudio } from './cap-audio.js';
import { type CapDraftInfo, capDraft, claimHandled, forgetHandled, readHandled, resolveReferences, restoreDraft, saveHandled, withdrawDraft } from './cap-drafts.js';
import { CapFetchError, fetchLimited, isHttpUrl } from './cap-fetch.js';
import { type CentralStore, openCentralStore } from './central-store.js';
import { writeDraft } from './drafts.js';
import { UsageError } from './errors.js';
import type { Fleet } from './fleet.js';
import { printJson, terminalSafe } from './output.js';

export const CAP_FETCH_TIMEOUT_MS = 30_000;

/** One CAP document as found, or why it could not be read. */
export interface CapDoc {
  /** File path or URL, for the operator. */
  source: string;
  body?: Buffer;
  error?: string;
  /** The feed URL it came through: a feed listed in cap.sources vouches only for its own senders. */
  via?: string;
}

/** One handled message: the `--dry-run --json` contract (docs/cli.md), plus what was written. */
export interface CapResult {
  source: string;
  identifier: string | null;
  sender: string | null;
  sent: string | null;
  status: CapStatus | null;
  msgType: CapMsgType | null;
  action: CapAction;
  reason: string | null;
  test: boolean;
  language: string | null;
  headline: string | null;
  text: string | null;
  targets: string[];
  expiresAt: string | null;
  references: CapReference[];
  urgency: string | null;
  severity: string | null;
  repeat: number;
  /** Loa broadcast ids the draft stops when it is sent. */
  cancels: string[];
  /** Loa ids of unsent drafts this message replaces or cancels: withdrawn, never approved. */
  withdraws: string[];
  // Without --dry-run:
  draft?: string | null;
  created?: boolean;
  needed?: number | null;
  audio?: CapAudioSummary | null;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

// ---- reading sources ---------------------------------------------------------------------

function readLocal(path: string, maxBytes: number): Buffer {
  const st = statSync(path);
  if (!st.isFile()) throw new CapFetchError('not a file');
  // Refused by size before reading: a 50 MB "CAP file" is never loaded.
  if (st.size > maxBytes) throw new CapFetchError(`${st.size} bytes is larger than ${maxBytes}; refused without reading`);
  return readFileSync(path);
}

const errorText = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof CapFetchError) return err.message;
  return err.code ? `cannot read: ${err.code}` : `cannot read: ${err.message}`;
};

export interface ExpandOptions {
  /** Where relative entry links resolve. */
  base: URL;
  /** Entry links may name local files only when the index itself is a local file. */
  allowFile: boolean;
  via?: string;
  /** Entries already fetched, by link → updated: skipped unless their `updated` changed (cap watch). */
  seen?: Map<string, string>;
}

/** A CAP document stays itself; an index becomes the CAP documents its entries link to. */
export async function expandSource(source: string, body: Buffer, o: ExpandOptions): Promise<CapDoc[]> {
  const kind = classifySource(body);
  const via = o.via !== undefined ? { via: o.via } : {};
  if (kind.kind === 'cap') return [{ source, body, ...via }];
  if (kind.kind === 'unknown') {
    // parseCap gives the precise refusal (size, DTD, element path) for anything CAP-like.
    return [{ source, body, ...via }];
  }
  const docs: CapDoc[] = [];
  // Feeds list newest first; handle oldest first so an Alert comes before its Update.
  for (const entry of [...kind.entries].reverse()) docs.push(...(await fetchEntry(entry, o)));
  if (o.seen) {
    // Forget entries the feed no longer lists, so a watcher running for months stays small.
    const listed = new Set(kind.entries.flatMap((e) => (URL.canParse(e.href, o.base) ? [new URL(e.href, o.base).href] : [])));
    for (const key of [...o.seen.keys()]) if (!listed.has(key)) o.seen.delete(key);
  }
  return docs;
}

async function fetchEntry(entry: FeedEntry, o: ExpandOptions): Promise<CapDoc[]> {
  let url: URL;
  try {
    url = new URL(entry.href, o.base);
  } catch {
    return [{ source: entry.href, error: `entry link "${entry.href}" is not a URL` }];
  }
  const key = url.href;
  const stamp = entry.updated ?? entry.id ?? '';
  if (o.seen?.get(key) === stamp) return [];
  const via = o.via !== undefined ? { via: o.via } : {};
  try {
    let body: Buffer;
    if (url.protocol === 'file:') {
      if (!o.allowFile) throw new CapFetchError('a feed on the network may not point at local files');
      body = readLocal(fileURLToPath(url), DEFAULT_MAX_CAP_BYTES);
    } else if (url.protocol === 'http:' || url.protocol === 'https:') {
      body = (await fetchLimited(url.href, { maxBytes: DEFAULT_MAX_CAP_BYTES, timeoutMs: CAP_FETCH_TIMEOUT_MS, accept: 'application/cap+xml, application/xml, text/xml' })).body;
    } else {
      throw new CapFetchError(`only http and https links are followed, not ${url.protocol}`);
    }
    o.seen?.set(key, stamp);
    return [{ source: url.protocol === 'file:' ? fileURLToPath(url) : url.href, body, ...via }];
  } catch (e) {
    // A failed fetch is not remembered: the next poll tries again.
    return [{ source: url.href, error: errorText(e) }];
  }
}

/** A file (CAP or index) or an http(s) URL (CAP or index), as documents. */
export async function loadInput(input: string): Promise<CapDoc[]> {
  if (isHttpUrl(input)) {
    try {
      const r = await fetchLimited(input, { maxBytes: DEFAULT_MAX_INDEX_BYTES, timeoutMs: CAP_FETCH_TIMEOUT_MS });
      return await expandSource(input, r.body, { base: new URL(r.url), allowFile: false, via: input });
    } catch (e) {
      return [{ source: input, error: errorText(e) }];
    }
  }
  const path = resolve(input);
  try {
    const body = readLocal(path, DEFAULT_MAX_INDEX_BYTES);
    return await expandSource(path, body, { base: pathToFileURL(path), allowFile: true });
  } catch (e) {
    return [{ source: path, error: errorText(e) }];
  }
}

// ---- planning ----------------------------------------------------------------------------

/** The planner's view of the fleet. A feed listed in cap.sources vouches only for the senders listed with it. */
export function capContext(fleet: Fleet, now: number, via?: string): CapContext {
  const cap = fleet.cap;
  const own = via !== undefined ? cap.sources.filter((s) => s.url === via) : [];
  const ctx: CapContext = {
    now,
    stations: fleet.stations.map((s) => ({ id: s.id, groups: s.groups, ...(s.location ? { location: s.location } : {}) })),
    groups: fleet.groups.map((g) => g.id),
    areas: cap.areas,
    languages: cap.languages,
    sources: own.length > 0 ? own : cap.sources,
    repeatPolicy: cap.repeat,
  };
  if (cap.template !== undefined) ctx.template = capTemplate(cap.template);
  return ctx;
}

function resultOf(source: string, plan: CapPlan): CapResult {
  return {
    source,
    identifier: plan.identifier,
    sender: plan.sender,
    sent: plan.sent,
    status: plan.status,
    msgType: plan.msgType,
    action: plan.action,
    reason: plan.reason ?? null,
    test: plan.test,
    language: plan.language ?? null,
    headline: plan.headline ?? null,
    text: plan.text ?? null,
    targets: plan.targets,
    expiresAt: plan.expiresAt ?? null,
    references: plan.references,
    urgency: plan.urgency ?? null,
    severity: plan.severity ?? null,
    repeat: plan.repeat,
    cancels: [],
    withdraws: [],
  };
}

function unreadable(source: string, reason: string): CapResult {
  return {
    source,
    identifier: null,
    sender: null,
    sent: null,
    status: null,
    msgType: null,
    action: 'refuse',
    reason,
    test: false,
    language: null,
    headline: null,
    text: null,
    targets: [],
    expiresAt: null,
    references: [],
    urgency: null,
    severity: null,
    repeat: 1,
    cancels: [],
    withdraws: [],
  };
}

const written = (r: CapResult, extra: Partial<CapResult> = {}): CapResult => ({
  ...r,
  draft: r.draft ?? null,
  created: r.created ?? false,
  needed: r.needed ?? null,
  audio: r.audio ?? null,
  ...extra,
});

interface Journal {
  complete: boolean;
  claimedAt: number;
  result?: CapResult;
}

/** A claim this old without a result: the process that made it died. */
const STALE_CLAIM_MS = 10 * 60_000;

export interface HandleOptions {
  dryRun: boolean;
  /** Judge expiry and validity as of this instant (dry runs). */
  now?: number;
}

/**
 * Parse, plan and (unless dry) draft every document, oldest `sent` first, so an Alert is drafted
 * before the Update that replaces it. In a dry run, messages see the drafts earlier ones in the
 * same run would have made.
 */
export async function handleDocuments(fleet: Fleet, docs: CapDoc[], o: HandleOptions): Promise<CapResult[]> {
  const now = o.now ?? Date.now();
  const results: CapResult[] = [];
  const messages: { doc: CapDoc; msg: CapAlert }[] = [];
  for (const doc of docs) {
    if (doc.error !== undefined || doc.body === undefined) {
      results.push(finish(unreadable(doc.source, doc.error ?? 'nothing to read'), o.dryRun));
      continue;
    }
    const r = parseCap(doc.body);
    if (r.ok) messages.push({ doc, msg: r.message });
    else results.push(finish(unreadable(doc.source, `${r.path}: ${r.reason}`), o.dryRun));
  }
  messages.sort((a, b) => capTimeMs(a.msg.sent)! - capTimeMs(b.msg.sent)!);
  const overlay = new Map<string, CapDraftInfo>();
  const lookup = (id: string) => overlay.get(id) ?? capDraft(fleet, id);
  let db: CentralStore | undefined;
  try {
    for (const { doc, msg } of messages) {
      const plan = planCapMessage(msg, capContext(fleet, now, doc.via));
      try {
        if (o.dryRun) results.push(dryRun(fleet, doc.source, plan, now, lookup, overlay));
        else {
          db ??= await openCentralStore(fleet);
          results.push(await draftMessage(fleet, db, doc, msg, plan));
        }
      } catch (e) {
        results.push(finish({ ...resultOf(doc.source, plan), action: 'refuse', reason: `could not draft: ${(e as Error).message}`, targets: [] }, o.dryRun));
      }
    }
  } finally {
    await db?.close();
  }
  return results;
}

const finish = (r: CapResult, dry: boolean): CapResult => (dry ? r : written(r));

interface Drafting {
  result: CapResult;
  /** Undefined when the message ends as ignore or refuse. */
  cancels?: CapCancelTarget[];
  withdraw?: CapDraftInfo[];
  needed?: number;
}

/** What a message means given the drafts that exist: shared by dry runs and real imports. */
function decide(fleet: Fleet, source: string, plan: CapPlan, now: number, lookup: (id: string) => CapDraftInfo | undefined): Drafting {
  const result = resultOf(source, plan);
  if (plan.action !== 'alert' && plan.action !== 'update' && plan.action !== 'cancel') return { result };
  const res = resolveReferences(plan.references, lookup);
  const cancels = res.cancels.filter((c) => c.broadcastId !== capBroadcastId(plan));
  const stop = (action: 'ignore' | 'refuse', reason: string): Drafting => ({ result: { ...result, action, reason, targets: [] } });
  if (plan.test && cancels.some((c) => !c.test)) {
    return stop(
      'refuse',
      `status ${plan.status} may not stop a live alert (${cancels
        .filter((c) => !c.test)
        .map((c) => c.broadcastId)
        .join(', ')})`,
    );
  }
  const live = !plan.test || cancels.some((c) => !c.test);
  if (plan.action === 'cancel') {
    if (cancels.length === 0 && res.withdraw.length === 0) {
      const refs = plan.references.map((r) => r.identifier).join(', ');
      return stop('ignore', `nothing to cancel: no draft or broadcast here for ${refs}`);
    }
    const targets = [...new Set(cancels.flatMap((c) => c.stations))].sort();
    const needed = cancels.length === 0 ? undefined : cancels.some((c) => !c.test) ? fleet.alertQuorum : 1;
    return {
      result: {
        ...result,
        targets,
        cancels: cancels.map((c) => c.broadcastId),
        withdraws: res.withdraw.map((w) => w.id),
        expiresAt: cancels.length > 0 ? iso(now + DEFAULT_TTL_MS.cancel) : null,
      },
      cancels,
      withdraw: res.withdraw,
      ...(needed !== undefined ? { needed } : {}),
    };
  }
  const expiresAt = iso(capAlertExpiry(plan, now, fleet.cap.lifetimeHours * 3600_000));
  return {
    result: { ...result, expiresAt, cancels: cancels.map((c) => c.broadcastId), withdraws: res.withdraw.map((w) => w.id) },
    cancels,
    withdraw: res.withdraw,
    needed: live ? fleet.alertQuorum : 1,
  };
}

function dryRun(fleet: Fleet, source: string, plan: CapPlan, now: number, lookup: (id: string) => CapDraftInfo | undefined, overlay: Map<string, CapDraftInfo>): CapResult {
  const d = decide(fleet, source, plan, now, lookup);
  if (d.cancels === undefined) return d.result;
  const id = capBroadcastId(plan);
  for (const w of d.withdraw ?? []) overlay.set(w.id, { ...w, state: 'withdrawn' });
  const info: CapDraftInfo = { id, state: 'pending', file: '(dry run)', cancels: d.cancels };
  if (plan.action !== 'cancel') info.alert = { broadcastId: id, target: { stations: plan.targets }, test: plan.test, stations: plan.targets };
  overlay.set(id, info);
  return d.result;
}

async function draftMessage(fleet: Fleet, db: CentralStore, doc: CapDoc, msg: CapAlert, plan: CapPlan): Promise<CapResult> {
  const id = capBroadcastId(plan);
  const now = Date.now();
  // Before judging it again: a message handled once (perhaps expired since) stays handled.
  const prior = duplicate(fleet, id, resultOf(doc.source, plan));
  if (prior) return prior;
  const d = decide(fleet, doc.source, plan, now, (x) => capDraft(fleet, x));
  if (d.cancels === undefined) return written(d.result);
  const audio = plan.action === 'cancel' ? undefined : await capAudio(fleet, plan);
  if (!claimHandled(fleet, id, { complete: false, claimedAt: now } satisfies Journal)) return duplicate(fleet, id, d.result) ?? written(d.result);
  const withdrawn: string[] = [];
  try {
    const cancels = [...d.cancels];
    const withdraws: string[] = [];
    for (const w of d.withdraw ?? []) {
      const to = withdrawDraft(w.file);
      if (to) {
        withdrawn.push(to);
        withdraws.push(w.id);
        continue;
      }
      // Approved while we looked: it is on air now, so stop it instead.
      const now2 = capDraft(fleet, w.id);
      if (now2?.state === 'sent' && now2.alert && !cancels.some((c) => c.broadcastId === now2.alert!.broadcastId)) cancels.push(now2.alert);
    }
    const live = !plan.test || cancels.some((c) => !c.test);
    const needed = plan.action === 'cancel' ? (cancels.length === 0 ? null : cancels.some((c) => !c.test) ? fleet.alertQuorum : 1) : live ? fleet.alertQuorum : 1;
    const result: CapResult = { ...d.result, cancels: cancels.map((c) => c.broadcastId), withdraws };
    if (plan.action === 'cancel') result.targets = [...new Set(cancels.flatMap((c) => c.stations))].sort();
    let draft: string | null = null;
    if (plan.action !== 'cancel' || cancels.length > 0) {
      const envelopes = capEnvelopes({ plan, now, defaultLifetimeMs: fleet.cap.lifetimeHours * 3600_000, cancels, ...(audio ? { audio: audio.media.ref } : {}) });
      result.expiresAt = iso(Date.parse(envelopes[envelopes.length - 1]!.expiresAt));
      const summary = {
        source: doc.source,
        status: plan.status,
        msgType: plan.msgType,
        urgency: plan.urgency ?? null,
        severity: plan.severity ?? null,
        certainty: plan.certainty ?? null,
        event: plan.event ?? null,
        senderName: msg.info.find((i) => i.language === plan.language)?.senderName ?? null,
        note: msg.note ?? null,
        language: plan.language ?? null,
        headline: plan.headline ?? null,
        text: plan.text ?? null,
        areaDescs: plan.areaDescs,
        capExpires: plan.expiresAt ?? null,
        effectiveAt: plan.effectiveAt ?? null,
        onsetAt: plan.onsetAt ?? null,
        otherLanguages: plan.otherLanguages,
        references: plan.references,
        cancels,
        withdrawn,
        repeat: plan.repeat,
        audio: audio?.summary ?? null,
      };
      draft = await writeDraft(fleet, db, {
        envelopes,
        media: audio ? [audio.media.ref.sha256] : [],
        needed: needed ?? 1,
        origin: { kind: 'cap', sender: plan.sender, identifier: plan.identifier, sent: plan.sent, summary },
      });
    }
    const final = written(result, { draft, created: true, needed, audio: audio?.summary ?? null });
    saveHandled(fleet, id, { complete: true, claimedAt: now, result: final } satisfies Journal);
    return final;
  } catch (e) {
    // No new draft: the drafts it would have replaced must stand, or the warning is lost.
    for (const w of withdrawn) restoreDraft(w);
    forgetHandled(fleet, id);
    throw e;
  }
}

/** The earlier result for this message, with its draft's current file, or undefined if it was never handled. */
function duplicate(fleet: Fleet, id: string, fallback: CapResult): CapResult | undefined {
  const j = readHandled<Journal>(fleet, id);
  const current = capDraft(fleet, id);
  if (j?.complete && j.result) return { ...j.result, draft: current?.file ?? j.result.draft ?? null, created: false };
  if (j && !j.complete) {
    if (Date.now() - j.claimedAt <= STALE_CLAIM_MS) return written(fallback, { draft: current?.file ?? null, created: false });
    if (!current) {
      forgetHandled(fleet, id); // its process died before writing the draft: handle it afresh
      return undefined;
    }
  }
  // A draft without a complete journal entry: still one draft per message.
  return current ? written(fallback, { draft: current.file, created: false }) : undefined;
}

// ---- output ------------------------------------------------------------------------------

/** One line per message for people (the JSON carries everything). */
export function describeResult(r: CapResult): string {
  const who = terminalSafe(r.identifier ?? r.source);
  const headline = terminalSafe(r.headline ?? '');
  switch (r.action) {
    case 'refuse':
      return t('cap.refused', { id: who, reason: terminalSafe(r.reason ?? '') });
    case 'ignore':
      return t('cap.ignored', { id: who, reason: terminalSafe(r.reason ?? '') });
    case 'alert':
    case 'update':
    case 'cancel': {
      const targets = r.targets.length > 0 ? r.targets.join(', ') : '-';
      const lines: string[] = [];
      if (r.draft === undefined) {
        lines.push(t('cap.planned', { action: r.action, id: who, test: r.test ? ' (test)' : '', targets, headline }));
        for (const w of r.withdraws) lines.push(t('cap.wouldWithdraw', { id: who, draft: w }));
        return lines.join('\n');
      }
      if (r.draft === null) lines.push(t('cap.nothingDrafted', { id: who }));
      else if (r.created) lines.push(t('cap.drafted', { action: r.action, id: who, test: r.test ? ' (test)' : '', file: r.draft, needed: r.needed ?? 1, targets, headline }));
      else lines.push(t('cap.duplicate', { id: who, file: r.draft }));
      if (r.created) for (const w of r.withdraws) lines.push(t('cap.withdrew', { id: who, draft: w }));
      if (r.created && r.audio?.problem) lines.push(t('cap.audioProblem', { id: who, problem: terminalSafe(r.audio.problem) }));
      return lines.join('\n');
    }
  }
}

export function parseNowOption(value: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new UsageError(t('cap.badNow', { value }));
  return ms;
}

export async function capImport(fleet: Fleet, inputs: string[], o: { dryRun?: boolean; json?: boolean; now?: string }): Promise<number> {
  if (o.now !== undefined && o.dryRun !== true) throw new UsageError(t('cap.nowNeedsDryRun'));
  const now = o.now !== undefined ? parseNowOption(o.now) : undefined;
  const docs: CapDoc[] = [];
  for (const input of inputs) docs.push(...(await loadInput(input)));
  const results = await handleDocuments(fleet, docs, { dryRun: o.dryRun === true, ...(now !== undefined ? { now } : {}) });
  if (o.json) printJson(results);
  else for (const r of results) process.stdout.write(`${describeResult(r)}\n`);
  return results.some((r) => r.action === 'refuse') ? 1 : 0;
}
