import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { PrioritySelect } from '../components/priority-select';
import { Targets, targetList } from '../components/targets';
import { seconds, time } from '../format';
import { t } from '../i18n';
import type { Session } from '../main';
import { onLink } from '../router';

interface OnAir {
  id: string;
  token: string;
  socket: WebSocket;
  recorder: MediaRecorder;
  stream: MediaStream;
  /** When the microphone started delivering audio (this browser's clock). */
  capturedAt: number;
}

export function LiveMicPage({ session }: { session: Session }) {
  const fleet = session.fleet;
  const [targets, setTargets] = useState<Set<string>>(new Set(fleet.stations.length === 1 ? [fleet.stations[0]!.id] : []));
  const [title, setTitle] = useState('');
  const [priority, setPriority] = useState<'normal' | 'priority'>('priority');
  const [maxMinutes, setMaxMinutes] = useState(15);
  const [onAir, setOnAir] = useState<OnAir | null>(null);
  const [ended, setEnded] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const current = useRef<OnAir | null>(null);

  useEffect(() => {
    if (!onAir) return;
    const id = setInterval(() => setElapsed((Date.now() - onAir.capturedAt) / 1000), 250);
    return () => clearInterval(id);
  }, [onAir]);
  // Leaving the page ends the broadcast: nobody stays on air by accident.
  useEffect(() => () => stopNow(current.current), []);

  const start = async () => {
    setError(null);
    setEnded(null);
    const to = targetList(fleet, targets);
    if (to.length === 0) return setError(t('announce.needTargets'));
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
    } catch (e) {
      return setError(t('announce.micDenied', { reason: (e as Error).message }));
    }
    const capturedAt = Date.now();
    const mime = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus'].find((m) => MediaRecorder.isTypeSupported(m)) ?? 'audio/webm';
    try {
      const r = await api.post<{ id: string; token: string }>('/api/live', { to, title, priority, maxMinutes, container: mime.startsWith('audio/ogg') ? 'ogg' : 'webm' });
      const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live/${r.token}/audio`);
      socket.binaryType = 'arraybuffer';
      await new Promise<void>((resolve, reject) => {
        socket.onopen = () => resolve();
        socket.onerror = () => reject(new Error('WebSocket'));
      });
      const recorder = new MediaRecorder(stream, { mimeType: mime, audioBitsPerSecond: 32_000 });
      // Small slices: each goes out as soon as it is encoded (the latency budget is 2 s end to end).
      recorder.ondataavailable = (e) => {
        if (e.data.size > 0 && socket.readyState === WebSocket.OPEN) void e.data.arrayBuffer().then((b) => socket.send(b));
      };
      recorder.onstop = () => setTimeout(() => socket.close(1000, 'stopped'), 300);
      socket.onclose = () => {
        for (const tr of stream.getTracks()) tr.stop();
        if (recorder.state !== 'inactive') recorder.stop();
        current.current = null;
        setOnAir(null);
        setEnded(r.id);
      };
      recorder.start(100);
      const air = { id: r.id, token: r.token, socket, recorder, stream, capturedAt };
      current.current = air;
      setOnAir(air);
    } catch (e) {
      for (const tr of stream.getTracks()) tr.stop();
      setError((e as Error).message);
    }
  };

  return (
    <section class="live-mic" data-on-air={onAir ? 'yes' : 'no'} data-capture-started={onAir?.capturedAt ?? ''}>
      <h1>{t('nav.live')}</h1>
      {!onAir && (
        <div class="form">
          <Targets fleet={fleet} value={targets} onChange={setTargets} />
          <div class="row">
            <label>
              {t('announce.titleField')}
              <input name="title" maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
            </label>
            <PrioritySelect value={priority} onChange={setPriority} />
            <label>
              {t('live.maxMinutes')}
              <input name="max" type="number" min={1} max={60} value={maxMinutes} onInput={(e) => setMaxMinutes(Math.max(1, Math.min(60, Number(e.currentTarget.value) || 15)))} />
            </label>
          </div>
          <button type="button" class="danger" onClick={() => void start()} data-action="go-live">
            ● {t('live.start')}
          </button>
        </div>
      )}
      {onAir && (
        <div class="on-air">
          <p class="l-emergency">
            <strong>
              ● {t('live.onAir')} {seconds(elapsed)}
            </strong>{' '}
            <span class="small muted">{t('live.since', { at: time(onAir.capturedAt) })}</span>
          </p>
          <p>
            <a href={`/broadcasts/${onAir.id}`} target="_blank" rel="noopener">
              {t('live.follow')}
            </a>
          </p>
          <button type="button" class="primary" onClick={() => stopNow(onAir)} data-action="stop-live">
            ■ {t('live.stop')}
          </button>
        </div>
      )}
      {ended && (
        <p class="notice" data-ended={ended}>
          {t('live.ended')}{' '}
          <a href={`/broadcasts/${ended}`} onClick={(e) => onLink(e, `/broadcasts/${ended}`)}>
            {t('live.follow')}
          </a>
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function stopNow(air: OnAir | null): void {
  if (!air) return;
  if (air.recorder.state !== 'inactive') air.recorder.stop();
  else air.socket.close(1000, 'stopped');
}
