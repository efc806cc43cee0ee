import { useState } from 'preact/hooks';
import type { AnnounceRequest, MediaInfo } from '../../../shared/api';
import { api } from '../api';
import { AudioSource } from '../components/audio-source';
import { PrioritySelect } from '../components/priority-select';
import { Targets, targetList } from '../components/targets';
import { localInputToIso } from '../format';
import { t } from '../i18n';
import type { Session } from '../main';
import { navigate } from '../router';

export function AnnouncePage({ session }: { session: Session }) {
  const fleet = session.fleet;
  const [media, setMedia] = useState<MediaInfo | null>(null);
  const [title, setTitle] = useState('');
  const [targets, setTargets] = useState<Set<string>>(new Set(fleet.stations.length === 1 ? [fleet.stations[0]!.id] : []));
  const [when, setWhen] = useState<'now' | 'at'>('now');
  const [at, setAt] = useState('');
  const [priority, setPriority] = useState<'normal' | 'priority'>('normal');
  const [chime, setChime] = useState(true);
  const [repeat, setRepeat] = useState(1);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!media) return setError(t('announce.needAudio'));
    const to = targetList(fleet, targets);
    if (to.length === 0) return setError(t('announce.needTargets'));
    const req: AnnounceRequest = {
      media: media.sha256,
      title: title.trim() || (media.text ?? '').slice(0, 200),
      to,
      priority,
      chime,
      repeat,
      ...(when === 'at' && at ? { at: localInputToIso(at) } : {}),
    };
    setBusy(true);
    try {
      const r = await api.post<{ id: string }>('/api/announce', req);
      navigate(`/broadcasts/${r.id}`);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1>{t('announce.title')}</h1>
      <form class="form" onSubmit={submit}>
        <AudioSource value={media} onChange={setMedia} />
        <label>
          {t('announce.titleField')}
          <input name="title" maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <Targets fleet={fleet} value={targets} onChange={setTargets} />
        <fieldset>
          <legend>{t('announce.when')}</legend>
          <label class="check">
            <input type="radio" name="when" checked={when === 'now'} onChange={() => setWhen('now')} />
            {t('announce.now')}
          </label>
          <label class="check">
            <input type="radio" name="when" checked={when === 'at'} onChange={() => setWhen('at')} />
            {t('announce.at')}
            <input type="datetime-local" name="at" value={at} disabled={when !== 'at'} onInput={(e) => setAt(e.currentTarget.value)} />
          </label>
        </fieldset>
        <div class="row">
          <PrioritySelect value={priority} onChange={setPriority} />
          <label>
            {t('announce.repeat')}
            <input name="repeat" type="number" min={1} max={20} value={repeat} onInput={(e) => setRepeat(Math.max(1, Math.min(20, Number(e.currentTarget.value) || 1)))} />
          </label>
          <label class="check">
            <input name="chime" type="checkbox" checked={chime} onChange={(e) => setChime(e.currentTarget.checked)} />
            {t('announce.chime')}
          </label>
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy} data-action="send">
          {busy ? t('announce.sending') : t('announce.submit')}
        </button>
      </form>
    </section>
  );
}
