import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { dateTime, localDate, serverNow } from '../format';
import { t, tx } from '../i18n';
import type { Session } from '../main';

interface Row {
  broadcastId: string;
  kind: string;
  title: string;
  priority: string;
  test: boolean;
  station: string;
  plannedAt: string;
  startedAt: string | null;
  endedAt: string | null;
  status: string;
  reason: string | null;
}

export function ReportsPage({ session }: { session: Session }) {
  const today = localDate(serverNow());
  const [from, setFrom] = useState(localDate(serverNow() - 6 * 86_400_000));
  const [to, setTo] = useState(today);
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  const load = () => {
    setError(null);
    api.get<Row[]>(`/api/report?${q}`).then(setRows, (e: Error) => setError(e.message));
  };
  useEffect(load, []);
  const names = new Map(session.fleet.stations.map((s) => [s.id, s.name]));
  return (
    <section>
      <h1>{t('reports.title')}</h1>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          load();
        }}
      >
        <label>
          {t('reports.from')}
          <input type="date" name="from" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          {t('reports.to')}
          <input type="date" name="to" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <button type="submit">{t('reports.show')}</button>
        <a class="button" href={`/api/report?${q}&format=csv`} download data-action="csv">
          {t('reports.csv')}
        </a>
      </form>
      {error && <p class="error">{t('common.error', { error })}</p>}
      {rows && rows.length === 0 && <p class="muted">{t('reports.empty')}</p>}
      {rows && rows.length > 0 && (
        <table class="list">
          <thead>
            <tr>
              <th>{t('col.planned')}</th>
              <th>{t('col.title')}</th>
              <th>{t('col.station')}</th>
              <th>{t('col.started')}</th>
              <th>{t('col.state')}</th>
              <th>{t('col.reason')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.broadcastId}/${r.station}`}>
                <td data-label={t('col.planned')}>{dateTime(r.plannedAt)}</td>
                <td data-label={t('col.title')}>
                  {r.title || r.broadcastId} {r.test && <span class="tag">{t('broadcast.test')}</span>}
                  <div class="small muted">
                    {tx('type', r.kind)} · {tx('priority', r.priority)}
                  </div>
                </td>
                <td data-label={t('col.station')}>{names.get(r.station) ?? r.station}</td>
                <td data-label={t('col.started')}>{dateTime(r.startedAt)}</td>
                <td data-label={t('col.state')}>
                  <span class={`status st-${r.status}`}>{r.status}</span>
                </td>
                <td data-label={t('col.reason')}>{r.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
