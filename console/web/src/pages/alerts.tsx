import { useEffect, useState } from 'preact/hooks';
import type { BroadcastSummary, DraftView, MediaInfo } from '../../../shared/api';
import { api } from '../api';
import { AudioSource } from '../components/audio-source';
import { StationMap } from '../components/station-map';
import { Targets, targetList } from '../components/targets';
import { dateTime, serverNow } from '../format';
import { t } from '../i18n';
import { useLiveEvents, useStations } from '../live';
import type { Session } from '../main';
import { navigate, onLink } from '../router';

function NewAlert({ session, onDone }: { session: Session; onDone: () => void }) {
  const fleet = session.fleet;
  const [media, setMedia] = useState<MediaInfo | null>(null);
  const [title, setTitle] = useState('');
  const [targets, setTargets] = useState<Set<string>>(new Set());
  const [test, setTest] = useState(true);
  const [repeat, setRepeat] = useState(2);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!media) return setError(t('announce.needAudio'));
    const to = targetList(fleet, targets);
    if (to.length === 0) return setError(t('announce.needTargets'));
    setBusy(true);
    try {
      const r = await api.post<{ sent?: string; draft?: string }>('/api/alerts', {
        media: media.sha256,
        title: title.trim() || (media.text ?? '').slice(0, 200),
        to,
        test,
        repeat,
      });
      if (r.sent) navigate(`/broadcasts/${r.sent}`);
      else {
        onDone();
        navigate(`/alerts/${r.draft}`);
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" onSubmit={submit} data-form="new-alert">
      <h2>{t('alerts.new')}</h2>
      <fieldset>
        <legend>{t('alerts.kind')}</legend>
        <label class="check">
          <input type="radio" name="kind" checked={test} onChange={() => setTest(true)} data-kind="test" />
          {t('alerts.test', { s: fleet.testAlerts.maxDurationSec, v: fleet.testAlerts.maxVolume })}
        </label>
        <label class="check">
          <input type="radio" name="kind" checked={!test} onChange={() => setTest(false)} data-kind="live" />
          <strong class="l-emergency">{t('alerts.live', { n: fleet.alertQuorum })}</strong>
        </label>
      </fieldset>
      <AudioSource value={media} onChange={setMedia} />
      <label>
        {t('announce.titleField')}
        <input name="title" maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} required />
      </label>
      <Targets fleet={fleet} value={targets} onChange={setTargets} />
      <label>
        {t('announce.repeat')}
        <input name="repeat" type="number" min={1} max={20} value={repeat} onInput={(e) => setRepeat(Math.max(1, Math.min(20, Number(e.currentTarget.value) || 1)))} />
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class={test ? 'primary' : 'danger'} disabled={busy} data-action="draft-alert">
        {test ? t('alerts.sendTest') : t('alerts.draftLive')}
      </button>
    </form>
  );
}

/** The approver's view: exactly what stations will play, where, until when; then the password. */
function Approval({ id, session }: { id: string; session: Session }) {
  const [d, setD] = useState<DraftView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const { stations } = useStations();
  useEffect(() => {
    api.get<DraftView>(`/api/alerts/drafts/${id}`).then(setD, (e: Error) => setError(e.message));
  }, [id]);
  if (error && !d) return <p class="error">{error}</p>;
  if (!d) return <p>{t('common.loading')}</p>;
  const own = d.drafter === session.user.name;
  const canApprove = session.user.actions.includes('alert.approve') && !own;
  const names = new Map(session.fleet.stations.map((s) => [s.id, s.name]));
  const approve = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ sent: string | null; signed: string[]; needed: number }>(`/api/alerts/drafts/${id}/approve`, { password });
      setPassword('');
      if (r.sent) navigate(`/broadcasts/${r.sent}`);
      else setDone(t('alerts.moreNeeded', { n: r.needed - r.signed.length }));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="approval" data-draft={d.id}>
      <p>
        <a href="/alerts" onClick={(e) => onLink(e, '/alerts')}>
          {t('common.back')}
        </a>
      </p>
      <h1 class={d.test ? '' : 'l-emergency'}>
        {d.kind === 'cancel' ? t('alerts.cancelOf', { id: d.cancels ?? '' }) : d.title} {d.test && <span class="tag">{t('broadcast.test')}</span>}
      </h1>
      <dl class="facts">
        <dt>{t('alerts.level')}</dt>
        <dd>{d.test ? t('alerts.testLevel') : <strong class="l-emergency">{t('priority.emergency')}</strong>}</dd>
        <dt>{t('alerts.drafter')}</dt>
        <dd data-drafter>{d.drafter ?? d.origin}</dd>
        <dt>{t('alerts.signatures')}</dt>
        <dd>
          {d.signers.join(', ')} ({d.signers.length}/{d.needed})
        </dd>
        <dt>{t('alerts.expires')}</dt>
        <dd data-expires>{dateTime(d.expiresAt)}</dd>
        {d.reason && (
          <>
            <dt>{t('col.reason')}</dt>
            <dd>{d.reason}</dd>
          </>
        )}
        <dt>{t('announce.targets')}</dt>
        <dd data-targets={d.stations.join(',')}>{d.stations.map((s) => names.get(s) ?? s).join(', ')}</dd>
      </dl>
      <h2>{t('alerts.asAired')}</h2>
      <div class="audio">
        {d.test && (
          <>
            <span>{t('alerts.preamble')}</span>
            {/* biome-ignore lint/a11y/useMediaCaption: the preamble's words are printed beside it */}
            <audio controls preload="none" src="/api/assets/test-preamble" data-audio="preamble" />
          </>
        )}
        {d.media && (
          <>
            <span>{t('broadcast.audio')}</span>
            {/* biome-ignore lint/a11y/useMediaCaption: the text of spoken alerts is shown beside the player */}
            <audio controls preload="none" src={`/api/media/${d.media}`} data-audio="alert" />
          </>
        )}
        {d.text && <q>{d.text}</q>}
      </div>
      <StationMap fleet={session.fleet} stations={stations} now={serverNow()} highlight={new Set(d.stations)} />
      {own && <p class="notice">{t('alerts.ownDraft')}</p>}
      {canApprove && !done && (
        <form class="form" onSubmit={approve}>
          <label>
            {t('alerts.passwordAgain')}
            <input type="password" name="approve-password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
          </label>
          <button type="submit" class="danger" disabled={busy} data-action="approve">
            {t('alerts.approve')}
          </button>
        </form>
      )}
      {done && <p class="notice">{done}</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function CancelButton({ alert, onDone }: { alert: BroadcastSummary; onDone: (r: { sent?: string; draft?: string }) => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)} data-action="cancel-alert" data-alert={alert.id}>
        {t('alerts.cancel')}
      </button>
    );
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onDone(await api.post(`/api/alerts/${alert.id}/cancel`, { reason, password }));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="cancel-form" onSubmit={submit} data-cancel-form={alert.id}>
      <label>
        {t('col.reason')}
        <input name="reason" value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} required />
      </label>
      <p class="small muted">{t('alerts.correctionNote')}</p>
      <label>
        {t('alerts.passwordAgain')}
        <input type="password" name="cancel-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
      </label>
      <button type="submit" class="danger" disabled={busy} data-action="confirm-cancel">
        {t('alerts.cancelNow')}
      </button>
      {error && <p class="error">{error}</p>}
    </form>
  );
}

export function AlertsPage({ session, path }: { session: Session; path: string }) {
  const m = /^\/alerts\/([a-z0-9-]{1,64})$/.exec(path);
  const [drafts, setDrafts] = useState<DraftView[] | null>(null);
  const [alerts, setAlerts] = useState<BroadcastSummary[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const load = () => {
    api.get<DraftView[]>('/api/alerts/drafts').then(setDrafts, () => setDrafts([]));
    api.get<BroadcastSummary[]>('/api/broadcasts?limit=100').then(
      (l) => setAlerts(l.filter((b) => b.type === 'alert' && b.status === 'sent')),
      () => undefined,
    );
  };
  useEffect(load, [path]);
  useLiveEvents((e) => e.kind === 'broadcast' && load(), []);
  if (m) return <Approval id={m[1]!} session={session} />;
  const canCancel = session.user.actions.includes('alert.cancel');
  return (
    <section>
      <h1>{t('nav.alerts')}</h1>
      <h2>{t('alerts.waiting')}</h2>
      {drafts && drafts.length === 0 && <p class="muted">{t('alerts.noDrafts')}</p>}
      {drafts && drafts.length > 0 && (
        <table class="list">
          <tbody>
            {drafts.map((d) => (
              <tr key={d.id} data-draft={d.id}>
                <td data-label={t('col.at')}>{dateTime(d.createdAt)}</td>
                <td data-label={t('col.title')}>
                  <a href={`/alerts/${d.id}`} onClick={(e) => onLink(e, `/alerts/${d.id}`)}>
                    {d.kind === 'cancel' ? t('alerts.cancelOf', { id: d.cancels ?? '' }) : d.title}
                  </a>
                  {d.test && <span class="tag">{t('broadcast.test')}</span>}
                </td>
                <td data-label={t('alerts.drafter')}>{d.drafter ?? d.origin}</td>
                <td data-label={t('alerts.signatures')}>
                  {d.signers.length}/{d.needed}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {note && <p class="notice">{note}</p>}
      <h2>{t('alerts.recent')}</h2>
      <table class="list">
        <tbody>
          {alerts.map((a) => (
            <tr key={a.id} data-alert={a.id}>
              <td data-label={t('col.planned')}>{dateTime(a.plannedAt ?? a.createdAt)}</td>
              <td data-label={t('col.title')}>
                <a href={`/broadcasts/${a.id}`} onClick={(e) => onLink(e, `/broadcasts/${a.id}`)}>
                  {a.title || a.id}
                </a>
                {a.test && <span class="tag">{t('broadcast.test')}</span>}
              </td>
              <td data-label={t('col.progress')}>
                {a.confirmed}/{a.stations.length}
              </td>
              <td data-label="">
                {canCancel && (
                  <CancelButton
                    alert={a}
                    onDone={(r) => {
                      if (r.draft) navigate(`/alerts/${r.draft}`);
                      else {
                        setNote(t('alerts.cancelled'));
                        load();
                      }
                    }}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <NewAlert session={session} onDone={load} />
    </section>
  );
}
