import { useEffect, useState } from 'preact/hooks';
import type { BroadcastSummary } from '../../../shared/api';
import { api } from '../api';
import { Progress } from '../components/progress';
import { dateTime } from '../format';
import { t, tx } from '../i18n';
import { useLiveEvents } from '../live';
import type { Session } from '../main';
import { onLink } from '../router';

export function BroadcastsPage(_: { session: Session }) {
  const [list, setList] = useState<BroadcastSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => api.get<BroadcastSummary[]>('/api/broadcasts?limit=200').then(setList, (e: Error) => setError(e.message));
  useEffect(() => {
    void load();
  }, []);
  // New broadcasts and acks refresh the list (at most every half second).
  const [pending, setPending] = useState(false);
  useLiveEvents(
    (e) => {
      if (e.kind === 'station' || pending) return;
      setPending(true);
      setTimeout(() => {
        setPending(false);
        void load();
      }, 500);
    },
    [pending],
  );
  if (error) return <p class="error">{t('common.error', { error })}</p>;
  if (!list) return <p>{t('common.loading')}</p>;
  return (
    <section>
      <h1>{t('broadcasts.title')}</h1>
      {list.length === 0 ? (
        <p class="muted">{t('broadcasts.empty')}</p>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th>{t('col.planned')}</th>
              <th>{t('col.title')}</th>
              <th>{t('col.type')}</th>
              <th>{t('col.priority')}</th>
              <th>{t('col.progress')}</th>
              <th>{t('col.by')}</th>
            </tr>
          </thead>
          <tbody>
            {list.map((b) => (
              <tr key={b.id} data-broadcast={b.id}>
                <td data-label={t('col.planned')}>{dateTime(b.plannedAt ?? b.createdAt)}</td>
                <td data-label={t('col.title')}>
                  <a href={`/broadcasts/${b.id}`} onClick={(e) => onLink(e, `/broadcasts/${b.id}`)}>
                    {b.title || b.id}
                  </a>
                  {b.test && <span class="tag">{t('broadcast.test')}</span>}
                </td>
                <td data-label={t('col.type')}>{tx('type', b.type)}</td>
                <td data-label={t('col.priority')}>
                  <span class={`level l-${b.priority}`}>{tx('priority', b.priority)}</span>
                </td>
                <td data-label={t('col.progress')}>
                  <Progress n={b.confirmed} m={b.stations.length} failed={b.failed} />
                </td>
                <td data-label={t('col.by')}>{b.by ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
