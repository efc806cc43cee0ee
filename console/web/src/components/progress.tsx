import { t } from '../i18n';

/** N/M with a bar: the same count the CLI prints after --wait. */
export function Progress({ n, m, failed }: { n: number; m: number; failed: number }) {
  const pct = m === 0 ? 0 : Math.round((n / m) * 100);
  const bad = m === 0 ? 0 : Math.round((failed / m) * 100);
  return (
    <div class="progress" data-progress={`${n}/${m}`} title={t('broadcast.reached', { n, m })}>
      <div class="bar">
        <span class="ok" style={{ width: `${pct}%` }} />
        <span class="bad" style={{ width: `${bad}%` }} />
      </div>
      <span class="count">
        {n}/{m}
      </span>
    </div>
  );
}
