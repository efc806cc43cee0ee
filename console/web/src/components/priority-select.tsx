// Normal or priority (Circular 39/2020): what a ward may choose for an announcement or a live
// broadcast. Emergency is never offered here; it belongs to two-person alerts.
import { t } from '../i18n';

export type Level = 'normal' | 'priority';

export function PrioritySelect({ value, onChange }: { value: Level; onChange: (v: Level) => void }) {
  return (
    <label>
      {t('announce.priority')}
      <select name="priority" value={value} onChange={(e) => onChange(e.currentTarget.value as Level)}>
        <option value="normal">{t('priority.normal')}</option>
        <option value="priority">{t('priority.priority')}</option>
      </select>
    </label>
  );
}
