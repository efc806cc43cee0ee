import { useEffect, useState } from 'preact/hooks';
import type { AuditEntry } from '../../../shared/api';
import { ApiFailure, api } from '../api';
import { Targets } from '../components/targets';
import { dateTime, localDate, time } from '../format';
import { t, tx } from '../i18n';
import { useStations } from '../live';
import type { Session } from '../main';

interface Airing {
  station: string;
  plannedAt: string;
  itemId: string;
  title: string;
  priority: string;
  flags: ('quiet' | 'early' | 'late')[];
}
interface Loaded {
  text: string;
  stations: { id: string; pushedVersion: number | null; appliedVersion: number | null; pushedAt: number | null; quietHours: { start: string; end: string }[] }[];
  week: Airing[];
  history: AuditEntry[];
}
interface Checked {
  items: number;
  diff: { station: string; added: string[]; removed: string[]; changed: string[] }[];
  week: Airing[];
}

function Week({ week, names }: { week: Airing[]; names: Map<string, string> }) {
  const days = new Map<string, Airing[]>();
  for (const a of week) {
    const d = localDate(Date.parse(a.plannedAt));
    days.set(d, [...(days.get(d) ?? []), a]);
  }
  if (week.length === 0) return <p class="muted">{t('schedules.noAirings')}</p>;
  const flagged = week.filter((a) => a.flags.length > 0).length;
  return (
    <div class="week" data-week={week.length}>
      {flagged > 0 && (
        <p class="warn-text" data-flagged={flagged}>
          {t('schedules.flagged', { n: flagged })}
        </p>
      )}
      {[...days].map(([day, list]) => (
        <div key={day} class="day">
          <h3>{day}</h3>
          <table class="list">
            <tbody>
              {list.map((a) => (
                <tr key={`${a.station}/${a.itemId}/${a.plannedAt}`} class={a.flags.length > 0 ? 'flagged' : ''} data-airing={a.itemId} data-flags={a.flags.join(',')}>
                  <td data-label={t('col.at')}>{time(a.plannedAt)}</td>
                  <td data-label={t('col.station')}>{names.get(a.station) ?? a.station}</td>
                  <td data-label={t('col.title')}>
                    {a.title || a.itemId} <span class="small muted">{tx('priority', a.priority)}</span>
                  </td>
                  <td data-label="">{a.flags.map((f) => t(`schedules.flag.${f}`)).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </div>
  );
}

export function SchedulesPage({ session }: { session: Session }) {
  const fleet = session.fleet;
  const { stations: live } = useStations();
  const [selected, setSelected] = useState<Set<string>>(new Set(fleet.stations.map((s) => s.id)));
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [text, setText] = useState('');
  const [checked, setChecked] = useState<{ text: string; result: Checked } | null>(null);
  const [error, setError] = useState<{ message: string; line?: number; path?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [pushed, setPushed] = useState<string | null>(null);
  const names = new Map(fleet.stations.map((s) => [s.id, s.name]));
  const list = fleet.stations.filter((s) => selected.has(s.id)).map((s) => s.id);

  const load = async () => {
    setError(null);
    setChecked(null);
    setPushed(null);
    const l = await api.get<Loaded>(`/api/schedules?stations=${list.join(',')}`);
    setLoaded(l);
    setText(l.text);
  };
  useEffect(() => {
    void load().catch((e: Error) => setError({ message: e.message }));
  }, []);

  const fail = (e: unknown) => {
    const body = e instanceof ApiFailure ? e.body : { error: String(e) };
    setError({ message: body.error, ...(body.line !== undefined ? { line: body.line } : {}), ...(body.path !== undefined ? { path: body.path } : {}) });
  };
  const check = async () => {
    setBusy(true);
    setError(null);
    setPushed(null);
    try {
      setChecked({ text, result: await api.post<Checked>('/api/schedules/check', { stations: list, text }) });
    } catch (e) {
      setChecked(null);
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  const push = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ pushed: { station: string; version: number }[] }>('/api/schedules/push', { stations: list, text });
      setPushed(r.pushed.map((p) => `${names.get(p.station) ?? p.station} v${p.version}`).join(', '));
      const l = await api.get<Loaded>(`/api/schedules?stations=${list.join(',')}`);
      setLoaded(l);
      setChecked(null);
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  const applied = loaded ? loaded.stations.filter((s) => s.pushedVersion !== null && (live.get(s.id)?.scheduleApplied ?? s.appliedVersion) === s.pushedVersion).length : 0;
  const withPush = loaded ? loaded.stations.filter((s) => s.pushedVersion !== null).length : 0;

  return (
    <section>
      <h1>{t('nav.schedules')}</h1>
      <details>
        <summary>
          {t('schedules.stations')}: {list.length}
        </summary>
        <Targets fleet={fleet} value={selected} onChange={setSelected} />
        <button type="button" onClick={() => void load().catch((e: Error) => setError({ message: e.message }))}>
          {t('schedules.load')}
        </button>
      </details>
      {loaded && (
        <>
          <h2>{t('schedules.versions')}</h2>
          <p data-applied={`${applied}/${withPush}`}>
            <strong>{t('schedules.appliedCount', { n: applied, m: withPush })}</strong>
          </p>
          <table class="list">
            <thead>
              <tr>
                <th>{t('col.station')}</th>
                <th>{t('schedules.pushed')}</th>
                <th>{t('schedules.applied')}</th>
                <th>{t('schedules.quietHours')}</th>
              </tr>
            </thead>
            <tbody>
              {loaded.stations.map((s) => {
                const appliedNow = live.get(s.id)?.scheduleApplied ?? s.appliedVersion;
                return (
                  <tr key={s.id} data-station={s.id} data-pushed={s.pushedVersion ?? ''} data-applied={appliedNow ?? ''}>
                    <td data-label={t('col.station')}>{names.get(s.id) ?? s.id}</td>
                    <td data-label={t('schedules.pushed')}>
                      {s.pushedVersion ?? '–'} <span class="small muted">{s.pushedAt ? dateTime(s.pushedAt) : ''}</span>
                    </td>
                    <td data-label={t('schedules.applied')} class={appliedNow !== s.pushedVersion ? 'warn-text' : 'ok-text'}>
                      {appliedNow ?? '–'}
                    </td>
                    <td data-label={t('schedules.quietHours')}>{s.quietHours.map((q) => `${q.start}–${q.end}`).join(', ') || '–'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <h2>{t('schedules.edit')}</h2>
          <p class="small muted">{t('schedules.editHelp')}</p>
          <textarea
            class="code"
            name="schedule"
            rows={Math.min(30, Math.max(10, text.split('\n').length + 2))}
            spellcheck={false}
            value={text}
            onInput={(e) => {
              setText(e.currentTarget.value);
              setChecked(null);
            }}
          />
          {error && (
            <p class="error" role="alert" data-error-line={error.line ?? ''} data-error-path={error.path ?? ''}>
              {error.line !== undefined ? `${t('schedules.line', { line: error.line })}: ` : ''}
              {error.message}
            </p>
          )}
          <div class="row">
            <button type="button" onClick={() => void check()} disabled={busy} data-action="check">
              {t('schedules.check')}
            </button>
            <button type="button" class="primary" onClick={() => void push()} disabled={busy || !checked || checked.text !== text} data-action="push">
              {t('schedules.push')}
            </button>
            {pushed && (
              <span class="ok-text" data-pushed-result>
                {t('schedules.pushedTo', { list: pushed })}
              </span>
            )}
          </div>
          {checked && (
            <div class="checked" data-checked>
              <h3>{t('schedules.diff')}</h3>
              <ul>
                {checked.result.diff.map((d) => (
                  <li key={d.station}>
                    {names.get(d.station) ?? d.station}: {d.added.map((x) => `+${x}`).join(' ')} {d.removed.map((x) => `−${x}`).join(' ')} {d.changed.map((x) => `~${x}`).join(' ')}
                    {d.added.length + d.removed.length + d.changed.length === 0 ? t('schedules.noChange') : ''}
                  </li>
                ))}
              </ul>
              <h3>{t('schedules.weekAfter')}</h3>
              <Week week={checked.result.week} names={names} />
            </div>
          )}
          <h2>{t('schedules.week')}</h2>
          <Week week={loaded.week} names={names} />
          <h2>{t('schedules.history')}</h2>
          <table class="list">
            <tbody>
              {loaded.history.map((h) => (
                <tr key={h.id}>
                  <td data-label={t('col.at')}>{dateTime(h.at)}</td>
                  <td data-label={t('col.user')}>{h.user}</td>
                  <td data-label={t('col.detail')}>{h.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
