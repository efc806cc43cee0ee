// Where the audio comes from: a file, a recording made here (MediaRecorder), or Vietnamese
// text the server turns into speech. Every path ends as a clip stored (and ffprobe-checked) on
// the server, previewed here before anything is sent.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { MediaInfo } from '../../../shared/api';
import { api } from '../api';
import { seconds } from '../format';
import { t } from '../i18n';

type Mode = 'upload' | 'record' | 'text';

export function AudioSource({ value, onChange }: { value: MediaInfo | null; onChange: (m: MediaInfo | null) => void }) {
  const [mode, setMode] = useState<Mode>('upload');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [recording, setRecording] = useState<{ rec: MediaRecorder; started: number } | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const chunks = useRef<Blob[]>([]);

  useEffect(() => {
    if (!recording) return;
    const id = setInterval(() => setElapsed((Date.now() - recording.started) / 1000), 250);
    return () => clearInterval(id);
  }, [recording]);

  const run = async (label: string, fn: () => Promise<MediaInfo>) => {
    setBusy(label);
    setError(null);
    try {
      onChange(await fn());
    } catch (e) {
      onChange(null);
      setError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };

  const startRecording = async () => {
    setError(null);
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
      const type = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm'].find((m) => MediaRecorder.isTypeSupported(m)) ?? '';
      const rec = new MediaRecorder(stream, type ? { mimeType: type } : {});
      chunks.current = [];
      rec.ondataavailable = (e) => e.data.size > 0 && chunks.current.push(e.data);
      rec.onstop = () => {
        for (const tr of stream.getTracks()) tr.stop();
        const blob = new Blob(chunks.current, { type: rec.mimeType || 'audio/webm' });
        void run(t('announce.uploading'), () => api.upload<MediaInfo>('/api/media', blob));
      };
      rec.start(250);
      setRecording({ rec, started: Date.now() });
      setElapsed(0);
    } catch (e) {
      setError(t('announce.micDenied', { reason: (e as Error).message }));
    }
  };

  const stopRecording = () => {
    recording?.rec.stop();
    setRecording(null);
  };

  return (
    <fieldset class="audio-source">
      <legend>{t('announce.source')}</legend>
      <div class="tabs" role="tablist">
        {(['upload', 'record', 'text'] as Mode[]).map((m) => (
          <button key={m} type="button" role="tab" aria-selected={mode === m} class={mode === m ? 'tab active' : 'tab'} onClick={() => setMode(m)} data-mode={m}>
            {t(m === 'upload' ? 'announce.upload' : m === 'record' ? 'announce.record' : 'announce.text')}
          </button>
        ))}
      </div>
      {mode === 'upload' && (
        <label class="file">
          {t('announce.chooseFile')}
          <input
            type="file"
            name="audio"
            accept="audio/*,.wav,.mp3,.ogg,.m4a,.flac,.webm"
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              if (f) void run(t('announce.uploading'), () => api.upload<MediaInfo>('/api/media', f));
            }}
          />
        </label>
      )}
      {mode === 'record' &&
        (recording ? (
          <button type="button" class="danger" onClick={stopRecording} data-action="stop-recording">
            ■ {t('announce.stopRecording')} ({t('announce.recording', { s: seconds(elapsed) })})
          </button>
        ) : (
          <button type="button" onClick={() => void startRecording()} data-action="start-recording">
            ● {t('announce.startRecording')}
          </button>
        ))}
      {mode === 'text' && (
        <div class="tts">
          <textarea name="text" rows={4} maxLength={5000} placeholder={t('announce.textPlaceholder')} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <button
            type="button"
            disabled={text.trim() === '' || busy !== null}
            onClick={() => void run(t('announce.making'), () => api.post<MediaInfo>('/api/speech', { text }))}
            data-action="make-speech"
          >
            {t('announce.makeSpeech')}
          </button>
        </div>
      )}
      {busy && <p class="muted">{busy}</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {value && (
        <div class="preview" data-media={value.sha256}>
          <span class="ok-text">{t('announce.ready', { d: seconds(value.durationSec), codec: value.codec })}</span>
          {/* biome-ignore lint/a11y/useMediaCaption: the text of spoken clips is shown beside the player */}
          <audio controls src={`/api/media/${value.sha256}`} />
          {value.text && <q>{value.text}</q>}
        </div>
      )}
    </fieldset>
  );
}
