import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Action, SessionInfo } from '../../shared/api';
import { ApiFailure, api, setCsrf, whenUnauthorised } from './api';
import { setServerNow, setZone } from './format';
import { currentLang, setLang, t, tx, useLang } from './i18n';
import { startLive, stopLive, useStations } from './live';
import { AlertsPage } from './pages/alerts';
import { AnnouncePage } from './pages/announce';
import { AuditPage } from './pages/audit';
import { BroadcastPage } from './pages/broadcast';
import { BroadcastsPage } from './pages/broadcasts';
import { LiveMicPage } from './pages/live-mic';
import { LoginPage } from './pages/login';
import { OverviewPage } from './pages/overview';
import { ReportsPage } from './pages/reports';
import { SchedulesPage } from './pages/schedules';
import { onLink, usePath } from './router';
import './style.css';

export type Session = SessionInfo;

const NAV: { path: string; key: Parameters<typeof t>[0]; action: Action }[] = [
  { path: '/', key: 'nav.overview', action: 'view' },
  { path: '/broadcasts', key: 'nav.broadcasts', action: 'view' },
  { path: '/announce', key: 'nav.announce', action: 'announce' },
  { path: '/schedules', key: 'nav.schedules', action: 'schedule' },
  { path: '/alerts', key: 'nav.alerts', action: 'alert.draft' },
  { path: '/live', key: 'nav.live', action: 'live' },
  { path: '/reports', key: 'nav.reports', action: 'view' },
  { path: '/audit', key: 'nav.audit', action: 'view' },
];

function Shell({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const path = usePath();
  const { connected } = useStations();
  const can = (a: Action) => session.user.actions.includes(a) || (a === 'alert.draft' && session.user.actions.includes('alert.approve'));
  let page = <OverviewPage session={session} />;
  const m = /^\/broadcasts\/([a-z0-9-]{1,64})$/.exec(path);
  if (m) page = <BroadcastPage id={m[1]!} session={session} />;
  else if (path === '/broadcasts') page = <BroadcastsPage session={session} />;
  else if (path === '/announce' && can('announce')) page = <AnnouncePage session={session} />;
  else if (path === '/schedules' && can('schedule')) page = <SchedulesPage session={session} />;
  else if (path.startsWith('/alerts') && can('alert.draft')) page = <AlertsPage session={session} path={path} />;
  else if (path === '/live' && can('live')) page = <LiveMicPage session={session} />;
  else if (path === '/reports') page = <ReportsPage session={session} />;
  else if (path === '/audit') page = <AuditPage session={session} />;
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href="/" onClick={(e) => onLink(e, '/')}>
          Loa
        </a>
        <nav>
          {NAV.filter((n) => can(n.action)).map((n) => (
            <a key={n.path} href={n.path} class={(n.path === '/' ? path === '/' : path.startsWith(n.path)) ? 'active' : ''} onClick={(e) => onLink(e, n.path)} data-nav={n.path}>
              {t(n.key)}
            </a>
          ))}
        </nav>
        <div class="me">
          <span class={connected ? 'live on' : 'live off'} data-live={connected ? 'on' : 'off'}>
            {connected ? t('live.connected') : t('live.disconnected')}
          </span>
          <span class="who">
            {session.user.name} · {tx('role', session.user.role)}
          </span>
          <button type="button" class="link" onClick={() => setLang(currentLang() === 'vi' ? 'en' : 'vi')}>
            {currentLang() === 'vi' ? 'EN' : 'VI'}
          </button>
          <button type="button" class="link" onClick={onLogout} data-action="logout">
            {t('nav.logout')}
          </button>
        </div>
      </header>
      <main>{page}</main>
    </div>
  );
}

function App() {
  useLang();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const adopt = (s: Session) => {
    setCsrf(s.csrf);
    setZone(s.fleet.timezone);
    setServerNow(s.serverNow);
    setSession(s);
    startLive();
  };
  useEffect(() => {
    whenUnauthorised(() => {
      stopLive();
      setSession(null);
      setNotice(t('login.expired'));
    });
    api.get<Session>('/api/session').then(adopt, (e) => {
      if (!(e instanceof ApiFailure)) setNotice(String(e));
      setSession(null);
    });
  }, []);
  if (session === undefined) return <p class="loading">{t('common.loading')}</p>;
  if (session === null)
    return (
      <LoginPage
        notice={notice}
        onLogin={(s) => {
          setNotice(null);
          adopt(s);
        }}
      />
    );
  return (
    <Shell
      session={session}
      onLogout={() => {
        void api.post('/api/logout').finally(() => {
          stopLive();
          setSession(null);
        });
      }}
    />
  );
}

document.documentElement.lang = currentLang();
render(<App />, document.getElementById('app')!);
