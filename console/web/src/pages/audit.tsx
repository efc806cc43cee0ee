import { useEffect, useState } from 'preact/hooks';
import type { AuditEntry } from '../../../shared/api';
import { api } from '../api';
import { dateTime } from '../format';
import { t, tx } from '../i18n';
import type { Session } from '../main';

export function AuditPage(_: { session: Session }) {
  const [rows, setRows] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<AuditEntry[]>('/api/audit?limit=500').then(setRows, (e: Error) => setError(e.message));
  }, []);
  return (
    <section>
      <h1>{t('audit.title')}</h1>
      <p>
        <a class="button" href="/api/audit?limit=100000&format=csv" download data-action="audit-csv">
          {t('audit.csv')}
        </a>
      </p>
      {error && <p class="error">{t('common.error', { error })}</p>}
      {rows && (
        <table class="list">
          <thead>
            <tr>
              <th>{t('col.at')}</th>
              <th>{t('col.user')}</th>
              <th>{t('col.action')}</th>
              <th>{t('col.target')}</th>
              <th>{t('col.outcome')}</th>
              <th>{t('col.ip')}</th>
              <th>{t('col.detail')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} class={`o-${r.outcome}`}>
                <td data-label={t('col.at')}>{dateTime(r.at)}</td>
                <td data-label={t('col.user')}>
                  {r.user} <span class="small muted">{tx('role', r.role)}</span>
                </td>
                <td data-label={t('col.action')}>{r.action}</td>
                <td data-label={t('col.target')}>{r.target ?? ''}</td>
                <td data-label={t('col.outcome')}>{tx('outcome', r.outcome)}</td>
                <td data-label={t('col.ip')}>{r.ip}</td>
                <td data-label={t('col.detail')}>{r.detail ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
