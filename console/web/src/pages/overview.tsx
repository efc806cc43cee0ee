import { useMemo, useState } from 'preact/hooks';
import type { StationView } from '../../../shared/api';
import { StationMap } from '../components/station-map';
import { ago, bytes, serverNow } from '../format';
import { health, isRed } from '../health';
import { t, tx } from '../i18n';
import { useClock, useStations } from '../live';
import type { Session } from '../main';
import { onLink } from '../router';

function Flags({ v }: { v: StationView }) {
  const flags = [
    v.storeFault ? `${t('station.storeFault')}: ${v.storeFault}` : null,
    v.storeReset ? `${t('station.storeReset')} ${v.storeReset}` : null,
    v.ackConflicts > 0 ? t('station.conflicts', { n: v.ackConflicts }) : null,
    v.stopped ? t('station.stopped') : null,
    v.lastError,
  ].filter((x): x is string => Boolean(x));
  return flags.length > 0 ? <span class="flags">{flags.join(' · ')}</span> : <span class="muted">–</span>;
}

function Row({ name, v, now }: { name: string; v: StationView; now: number }) {
  const h = health(v, now);
  const behind = v.scheduleDesired !== null && v.scheduleApplied !== v.scheduleDesired;
  return (
    <tr id={`station-${v.id}`} class={`station h-${h}`} data-station={v.id} data-health={h}>
      <td data-label={t('col.status')}>
        <span class={`dot dot-${h}`} aria-hidden="true" /> <strong class="health">{tx('health', h)}</strong>
        <div class="muted small">
          {h === 'silent' ? t('station.silentFor', { ago: ago(v.lastSeen, now) }) : v.since !== null ? t('station.since', { ago: ago(v.since, now) }) : ''}
        </div>
      </td>
      <td data-label={t('col.station')}>
        <strong>{name}</strong>
        <div class="muted small">{v.id}</div>
      </td>
      <td data-label={t('col.nowPlaying')}>
        {v.nowPlaying.length === 0 ? (
          <span class="muted">{t('station.idle')}</span>
        ) : (
          v.nowPlaying.map((p) => (
            <div key={p.zone} class={`playing p-${p.priority}`}>
              {p.zone}: {p.title || p.broadcastId || tx('priority', p.priority)}
            </div>
          ))
        )}
      </td>
      <td data-label={t('col.schedule')} class={behind ? 'warn-text' : ''} title={behind ? t('station.scheduleBehind') : ''}>
        {v.scheduleDesired ?? '–'}/{v.scheduleApplied ?? '–'}
      </td>
      <td data-label={t('col.clock')} class={v.clockOffsetMs !== null && Math.abs(v.clockOffsetMs) > 2000 ? 'warn-text' : ''}>
        {v.clockOffsetMs === null ? '–' : `${(v.clockOffsetMs / 1000).toFixed(1)} s`}
      </td>
      <td data-label={t('col.disk')}>{bytes(v.diskFreeBytes)}</td>
      <td data-label={t('col.outbox')}>{v.outboxDepth ?? '–'}</td>
      <td data-label={t('col.lastError')}>
        <Flags v={v} />
      </td>
    </tr>
  );
}

export function OverviewPage({ session }: { session: Session }) {
  const { stations } = useStations();
  useClock(1000);
  const now = serverNow();
  const [filter, setFilter] = useState('');
  const fleet = session.fleet;
  const groups = useMemo(() => {
    const out = fleet.groups.map((g) => ({ id: g.id, name: g.name, members: fleet.stations.filter((s) => s.groups[0] === g.id) }));
    const loose = fleet.stations.filter((s) => !s.groups[0] || !fleet.groups.some((g) => g.id === s.groups[0]));
    if (loose.length > 0) out.push({ id: '', name: t('overview.noGroup'), members: loose });
    return out.filter((g) => g.members.length > 0);
  }, [fleet]);
  const views = [...stations.values()];
  const red = views.filter((v) => isRed(health(v, now))).length;
  const online = views.filter((v) => v.online === true).length;
  const f = filter.trim().toLowerCase();
  return (
    <section>
      <h1>{t('overview.title')}</h1>
      <p class="summary" data-summary>
        {t('overview.summary', { online, total: fleet.stations.length, red })}
      </p>
      <StationMap fleet={fleet} stations={stations} now={now} onPick={(id) => document.getElementById(`station-${id}`)?.scrollIntoView({ behavior: 'smooth', block: 'center' })} />
      {fleet.stations.length > 20 && <input class="filter" type="search" placeholder={t('overview.filter')} value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />}
      {groups.map((g) => {
        const members = g.members.filter((s) => !f || s.name.toLowerCase().includes(f) || s.id.includes(f));
        if (members.length === 0) return null;
        return (
          <div key={g.id} class="group" data-group={g.id}>
            <h2>{g.name}</h2>
            <table class="stations">
              <thead>
                <tr>
                  <th>{t('col.status')}</th>
                  <th>{t('col.station')}</th>
                  <th>{t('col.nowPlaying')}</th>
                  <th>{t('col.schedule')}</th>
                  <th>{t('col.clock')}</th>
                  <th>{t('col.disk')}</th>
                  <th>{t('col.outbox')}</th>
                  <th>{t('col.lastError')}</th>
                </tr>
              </thead>
              <tbody>
                {members.map((s) => {
                  const v = stations.get(s.id);
                  return v ? <Row key={s.id} name={s.name} v={v} now={now} /> : null;
                })}
              </tbody>
            </table>
          </div>
        );
      })}
      <p class="muted small">
        <a href="/broadcasts" onClick={(e) => onLink(e, '/broadcasts')}>
          {t('nav.broadcasts')} →
        </a>
      </p>
    </section>
  );
}
