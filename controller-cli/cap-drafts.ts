// Where CAP messages meet the drafts directory: what became of an earlier message (pending,
// sent or withdrawn draft), which Loa alerts a CAP Update or Cancel must stop, and the journal
// of handled messages that makes importing the same message twice a no-op.
//
// Files, next to the central database:
//   drafts/<cap-id>.json            the draft of a CAP message, waiting for approval (drafts.ts)
//   drafts/<cap-id>.sent.json       … once approved and sent
//   drafts/<cap-id>.withdrawn       … withdrawn unsent, because a later Update or Cancel replaced it
//   cap/handled/<cap-id>.json       what `loa cap import|watch` did with the message (the result object)
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AlertBody, type Target } from '../protocol/index.js';
import { type CapCancelTarget, capBroadcastId } from './cap/envelopes.js';
import type { CapReference } from './cap/parse.js';
import { type Draft, draftsDir, readDraft } from './drafts.js';
import type { Fleet } from './fleet.js';
import { ensureGroupDir, writeGroupFile } from './secret-files.js';
import { planTopics } from './targets.js';

export type CapDraftState = 'pending' | 'sent' | 'withdrawn';

export interface CapDraftInfo {
  id: string;
  state: CapDraftState;
  file: string;
  /** The alert this draft airs (absent for a cancel-only draft). */
  alert?: CapCancelTarget;
  /** Alerts this draft stops when sent (an Update's or a Cancel's). */
  cancels: CapCancelTarget[];
}

export const capHandledDir = (fleet: Fleet) => join(fleet.centralDir, 'cap', 'handled');

function parseCancelTargets(v: unknown): CapCancelTarget[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((c) => {
    const x = c as Partial<CapCancelTarget>;
    if (typeof x?.broadcastId !== 'string' || typeof x.test !== 'boolean' || typeof x.target !== 'object' || !Array.isArray(x.stations)) return [];
    return [{ broadcastId: x.broadcastId, target: x.target as Target, test: x.test, stations: x.stations.filter((s): s is string => typeof s === 'string') }];
  });
}

function infoOf(fleet: Fleet, id: string, state: CapDraftState, file: string, draft: Draft): CapDraftInfo {
  const info: CapDraftInfo = { id, state, file, cancels: [] };
  const main = draft.envelopes.find((e) => e.id === id && e.type === 'alert');
  if (main) {
    const body = AlertBody.safeParse(main.body);
    info.alert = { broadcastId: id, target: main.target, test: body.success ? body.data.test : false, stations: planTopics(fleet, main.target).stations };
  }
  const summary = draft.origin.kind === 'cap' ? (draft.origin.summary as { cancels?: unknown } | undefined) : undefined;
  info.cancels = parseCancelTargets(summary?.cancels);
  return info;
}

/** The draft of the CAP message with this id, in whichever state it is. */
export function capDraft(fleet: Fleet, id: string): CapDraftInfo | undefined {
  const dir = draftsDir(fleet);
  const candidates: [CapDraftState, string][] = [
    ['sent', join(dir, `${id}.sent.json`)],
    ['pending', join(dir, `${id}.json`)],
    ['withdrawn', join(dir, `${id}.withdrawn`)],
  ];
  for (const [state, file] of candidates) {
    if (!existsSync(file)) continue;
    try {
      return infoOf(fleet, id, state, file, readDraft(file));
    } catch {
      // unreadable: treat as absent rather than guess what it held
    }
  }
  return undefined;
}

/**
 * Move a pending draft aside so nobody approves a warning its sender has replaced or cancelled.
 * The file is kept (`.withdrawn`) for the record; renaming it back to `.json` restores it.
 * Returns the new path, or undefined when it was no longer pending (approved meanwhile).
 */
export function withdrawDraft(file: string): string | undefined {
  const to = file.replace(/\.json$/, '.withdrawn');
  try {
    renameSync(file, to);
    return to;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Undo withdrawDraft (best effort). */
export function restoreDraft(withdrawn: string): void {
  try {
    renameSync(withdrawn, withdrawn.replace(/\.withdrawn$/, '.json'));
  } catch {
    /* gone: nothing to restore */
  }
}

export interface Resolution {
  /** Sent alerts to stop: the referenced ones and those a withdrawn Update would have stopped. */
  cancels: CapCancelTarget[];
  /** Pending drafts of referenced messages, to withdraw. */
  withdraw: CapDraftInfo[];
  /** References Loa has no draft for. */
  unresolved: CapReference[];
}

/** Read-only: what the references of a message mean here now. `lookup` may overlay a dry run. */
export function resolveReferences(refs: CapReference[], lookup: (id: string) => CapDraftInfo | undefined): Resolution {
  const cancels = new Map<string, CapCancelTarget>();
  const withdraw: CapDraftInfo[] = [];
  const unresolved: CapReference[] = [];
  for (const ref of refs) {
    const found = lookup(capBroadcastId(ref));
    if (!found) {
      unresolved.push(ref);
      continue;
    }
    if (found.state === 'sent' && found.alert) cancels.set(found.alert.broadcastId, found.alert);
    if (found.state === 'pending') {
      if (!withdraw.some((w) => w.id === found.id)) withdraw.push(found);
      // It never aired, but it would have stopped these: they must still be stopped.
      for (const c of found.cancels) cancels.set(c.broadcastId, c);
    }
  }
  return { cancels: [...cancels.values()], withdraw, unresolved };
}

// ---- journal -----------------------------------------------------------------------------

export function readHandled<T>(fleet: Fleet, id: string): T | undefined {
  const file = join(capHandledDir(fleet), `${id}.json`);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Claim the message for this process: false when another import has it already. */
export function claimHandled(fleet: Fleet, id: string, record: unknown): boolean {
  const dir = capHandledDir(fleet);
  ensureGroupDir(join(fleet.centralDir, 'cap'));
  ensureGroupDir(dir);
  let fd: number;
  try {
    fd = openSync(join(dir, `${id}.json`), 'wx', 0o660);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, `${JSON.stringify(record, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

export function saveHandled(fleet: Fleet, id: string, record: unknown): void {
  writeGroupFile(join(capHandledDir(fleet), `${id}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

/** A claim whose draft never got written (the process died between the two) does not count. */
export function forgetHandled(fleet: Fleet, id: string): void {
  try {
    renameSync(join(capHandledDir(fleet), `${id}.json`), join(capHandledDir(fleet), `${id}.stale`));
  } catch {
    /* already gone */
  }
}
