import { useEffect, useRef, useState } from 'preact/hooks';
import type { BroadcastDetail } from '../../../shared/api';
import { api } from '../api';
import { Progress } from '../components/progress';
import { dateTime, time } from '../format';
import { t, tx } from '../i18n';
import { useLiveEvents } from '../live';
import type { Session } from '../main';
import { onLink } from '../router';

export function BroadcastPage({ id, session }: { id: string; session: Session }) {
  const [b, setB] = useState<BroadcastDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const load = () => api.get<BroadcastDetail>(`/api/broadcasts/${id}`).then(setB, (e: Error) => setError(e.message));
  useEffect(() => {
    setB(null);
    void load();
  }, [id]);
  // Each ack for this broadcast fills in its station's row: the server's view is re-read, batched.
  useLiveEvents(
    (e) => {
      if (e.kind !== 'ack' || e.broadcastId !== id || timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        void load();
      }, 100);
    },
    [id],
  );
  if (error) return <p class="error">{t('common.error', { error })}</p>;
  if (!b) return <p>{t('common.loading')}</p>;
  const names = new Map(session.fleet.stations.map((s) => [s.id, s.name]));
  return (
    <section class="broadcast" data-broadcast={b.id}>
      <p>
        <a href="/broadcasts" onClick={(e) => onLink(e, '/broadcasts')}>
          {t('common.back')}
        </a>
      </p>
      <h1>
        {b.title || b.id} {b.test && <span class="tag">{t('broadcast.test')}</span>}
      </h1>
      <p class="muted">
        {tx('type', b.type)} · <span class={`level l-${b.priority}`}>{tx('priority', b.priority)}</span> · {dateTime(b.plannedAt ?? b.createdAt)} · {b.by ?? ''} · {b.id}
      </p>
      <div class="reach">
        <Progress n={b.confirmed} m={b.stations.length} failed={b.failed} />
        <strong data-reached>{t('broadcast.reached', { n: b.confirmed, m: b.stations.length })}</strong>
        {b.failed > 0 && <span class="error"> · {t('broadcast.failed', { n: b.failed })}</span>}
      </div>
      {b.audio && 'sha256' in b.audio && (
        <div class="audio">
          <span>{t('broadcast.audio')}:</span>
          {/* biome-ignore lint/a11y/useMediaCaption: spoken announcements have their text shown beside them */}
          <audio controls preload="none" src={`/api/media/${b.audio.sha256}`} />
          {b.audio.tts && <q>{b.audio.tts}</q>}
        </div>
      )}
      <table class="list progress-table">
        <thead>
          <tr>
            <th>{t('col.station')}</th>
            <th>{t('col.state')}</th>
            <th>{t('col.at')}</th>
            <th>{t('col.reason')}</th>
          </tr>
        </thead>
        <tbody>
          {b.progress.map((p) => (
            <tr key={p.station} data-station={p.station} data-state={p.state}>
              <td data-label={t('col.station')}>{names.get(p.station) ?? p.station}</td>
              <td data-label={t('col.state')}>
                <span class={`state s-${p.state}`}>{tx('state', p.state)}</span>
                <div class="steps small muted">{p.steps.map((s) => `${tx('state', s.state)} ${time(s.at)}`).join(' → ')}</div>
              </td>
              <td data-label={t('col.at')}>{time(p.at)}</td>
              <td data-label={t('col.reason')}>{p.reason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
