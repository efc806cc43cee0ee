// Target picker: the user's own stations, grouped by unit. Only what the server put in the
// session is offered; the server checks the choice again anyway.
import type { FleetView } from '../../../shared/api';
import { t } from '../i18n';

export function Targets({ fleet, value, onChange }: { fleet: FleetView; value: Set<string>; onChange: (v: Set<string>) => void }) {
  const all = fleet.stations.length > 0 && fleet.stations.every((s) => value.has(s.id));
  const toggle = (ids: string[], on: boolean) => {
    const next = new Set(value);
    for (const id of ids) on ? next.add(id) : next.delete(id);
    onChange(next);
  };
  const groups = fleet.groups.map((g) => ({ ...g, members: fleet.stations.filter((s) => s.groups.includes(g.id)) })).filter((g) => g.members.length > 0);
  const loose = fleet.stations.filter((s) => !s.groups.some((g) => fleet.groups.some((x) => x.id === g)));
  return (
    <fieldset class="targets">
      <legend>{t('announce.targets')}</legend>
      <label class="check strong">
        <input
          type="checkbox"
          checked={all}
          onChange={(e) =>
            toggle(
              fleet.stations.map((s) => s.id),
              e.currentTarget.checked,
            )
          }
          data-target="all"
        />
        {t('announce.allMine')} ({fleet.stations.length})
      </label>
      {[...groups, ...(loose.length > 0 ? [{ id: '', name: '', members: loose }] : [])].map((g) => (
        <div key={g.id} class="target-group">
          {g.name && (
            <label class="check strong">
              <input
                type="checkbox"
                checked={g.members.every((s) => value.has(s.id))}
                onChange={(e) =>
                  toggle(
                    g.members.map((s) => s.id),
                    e.currentTarget.checked,
                  )
                }
                data-target-group={g.id}
              />
              {g.name}
            </label>
          )}
          <div class="members">
            {g.members.map((s) => (
              <label key={s.id} class="check">
                <input type="checkbox" checked={value.has(s.id)} onChange={(e) => toggle([s.id], e.currentTarget.checked)} data-target={s.id} />
                {s.name}
              </label>
            ))}
          </div>
        </div>
      ))}
    </fieldset>
  );
}

/** The request's `to`: "all" when every station of a whole-fleet user is ticked, else the ids. */
export function targetList(fleet: FleetView, value: Set<string>): string[] {
  return fleet.stations.filter((s) => value.has(s.id)).map((s) => s.id);
}
