import { useState } from 'preact/hooks';
import type { SessionInfo } from '../../../shared/api';
import { ApiFailure, api } from '../api';
import { currentLang, setLang, t } from '../i18n';

export function LoginPage({ onLogin, notice }: { onLogin: (s: SessionInfo) => void; notice: string | null }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await api.post<SessionInfo>('/api/login', { name: name.trim(), password }));
    } catch (err) {
      setError(err instanceof ApiFailure && err.status === 401 ? t('login.failed') : err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="login">
      <form onSubmit={submit} class="card">
        <h1>{t('app.name')}</h1>
        <h2>{t('login.title')}</h2>
        {notice && <p class="notice">{notice}</p>}
        <label>
          {t('login.name')}
          <input name="name" autocomplete="username" value={name} onInput={(e) => setName(e.currentTarget.value)} required autofocus />
        </label>
        <label>
          {t('login.password')}
          <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {t('login.submit')}
        </button>
        <button type="button" class="link" onClick={() => setLang(currentLang() === 'vi' ? 'en' : 'vi')}>
          {currentLang() === 'vi' ? 'English' : 'Tiếng Việt'}
        </button>
      </form>
    </div>
  );
}
