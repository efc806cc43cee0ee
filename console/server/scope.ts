// Which stations a console user may see and address. The page only shows what is in scope;
// every request is checked again here, so a hand-made request for another ward is refused.
import { type Fleet, stationsOfGroup } from '../../controller-cli/fleet.js';
import type { Target } from '../../protocol/index.js';
import { type Action, ROLE_ACTIONS, type Role } from '../shared/api.js';

export interface Scoped {
  name: string;
  role: Role;
  stations: string[];
  groups: string[];
}

/** A ward user's scope is exactly its stations and groups; other roles see every station unless given a scope. */
export function scopeOf(fleet: Fleet, user: Scoped): Set<string> {
  if (user.role !== 'ward' && user.stations.length === 0 && user.groups.length === 0) return new Set(fleet.stations.map((s) => s.id));
  const out = new Set<string>(user.stations.filter((s) => fleet.stations.some((f) => f.id === s)));
  for (const g of user.groups) for (const s of stationsOfGroup(fleet, g)) out.add(s.id);
  return out;
}

export function may(user: Scoped, action: Action): boolean {
  return ROLE_ACTIONS[user.role].includes(action);
}

export class OutOfScope extends Error {
  constructor(readonly ids: string[]) {
    super(`not in your scope: ${ids.join(', ')}`);
  }
}

/**
 * Turn the page's target list (station ids, group ids, or "all") into a protocol target, refusing
 * anything outside the user's scope. "all" means the whole fleet only for a user who sees it all;
 * otherwise it is the user's own stations, named one by one.
 */
export function scopedTarget(fleet: Fleet, user: Scoped, to: string[]): { target: Target; stations: string[] } {
  const scope = scopeOf(fleet, user);
  const whole = scope.size === fleet.stations.length;
  if (to.length === 0) throw new OutOfScope([]);
  if (to.includes('all')) {
    if (whole) return { target: { all: true }, stations: fleet.stations.map((s) => s.id) };
    const stations = fleet.stations.map((s) => s.id).filter((id) => scope.has(id));
    return { target: { stations }, stations };
  }
  const stations: string[] = [];
  const groups: string[] = [];
  const refused: string[] = [];
  for (const id of new Set(to)) {
    if (fleet.stations.some((s) => s.id === id)) (scope.has(id) ? stations : refused).push(id);
    else if (fleet.groups.some((g) => g.id === id)) {
      const members = stationsOfGroup(fleet, id).map((s) => s.id);
      (members.length > 0 && members.every((m) => scope.has(m)) ? groups : refused).push(id);
    } else refused.push(id);
  }
  if (refused.length > 0) throw new OutOfScope(refused);
  const target: Target = {};
  if (stations.length > 0) target.stations = stations;
  if (groups.length > 0) target.groups = groups;
  const all = new Set([...stations, ...groups.flatMap((g) => stationsOfGroup(fleet, g).map((s) => s.id))]);
  return { target, stations: fleet.stations.map((s) => s.id).filter((id) => all.has(id)) };
}

/** The stations of a stored broadcast this user may see (a broadcast to all shows a ward its own stations). */
export function visibleStations(scope: Set<string>, stations: string[]): string[] {
  return stations.filter((s) => scope.has(s));
}
