import { t } from '../io/i18n.js';
import type { Target } from '../protocol/index.js';
import { UsageError } from './errors.js';
import { type Fleet, stationsOfGroup } from './fleet.js';

export interface ResolvedTarget {
  target: Target;
  /** Every station the target reaches, per the fleet file. */
  stations: string[];
  /** Topics to publish on: each targeted station subscribes to exactly one of them that carries it. */
  topics: string[];
}

/** `--to hoi-an,tan-hiep,cam-kim` or `--to all`. */
export function resolveTargets(fleet: Fleet, spec: string): ResolvedTarget {
  const names = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError(t('targets.empty'));
  if (names.includes('all')) {
    return { target: { all: true }, stations: fleet.stations.map((s) => s.id), topics: [fleet.topics.allCmd()] };
  }
  const stations: string[] = [];
  const groups: string[] = [];
  for (const n of names) {
    if (fleet.stations.some((s) => s.id === n)) stations.push(n);
    else if (fleet.groups.some((g) => g.id === n)) groups.push(n);
    else {
      throw new UsageError(t('targets.unknown', { id: n, known: ['all', ...fleet.groups.map((g) => g.id), ...fleet.stations.map((s) => s.id)].join(', ') }));
    }
  }
  const target: Target = {};
  if (stations.length > 0) target.stations = [...new Set(stations)];
  if (groups.length > 0) target.groups = [...new Set(groups)];
  return { target, ...planTopics(fleet, target) };
}

/**
 * The fewest topics such that no station receives the same command twice: a group topic is
 * used only if none of its members is already reached; the rest get their station topic.
 */
export function planTopics(fleet: Fleet, target: Target): { stations: string[]; topics: string[] } {
  if (target.all) return { stations: fleet.stations.map((s) => s.id), topics: [fleet.topics.allCmd()] };
  const wanted = new Set<string>(target.stations ?? []);
  for (const g of target.groups ?? []) for (const s of stationsOfGroup(fleet, g)) wanted.add(s.id);
  const covered = new Set<string>();
  const topics: string[] = [];
  const groups = [...(target.groups ?? [])].sort((a, b) => stationsOfGroup(fleet, b).length - stationsOfGroup(fleet, a).length || a.localeCompare(b));
  for (const g of groups) {
    const members = stationsOfGroup(fleet, g).map((s) => s.id);
    if (members.length === 0 || members.some((m) => covered.has(m))) continue;
    members.forEach((m) => covered.add(m));
    topics.push(fleet.topics.groupCmd(g));
  }
  const order = fleet.stations.map((s) => s.id).filter((id) => wanted.has(id));
  for (const s of order) if (!covered.has(s)) topics.push(fleet.topics.stationCmd(s));
  return { stations: order, topics };
}
