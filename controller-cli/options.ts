// Command-line option values: parsed once, with the same usage errors (exit 2) everywhere.

import { t } from '../io/i18n.js';
import { Id } from '../protocol/index.js';
import { UsageError } from './errors.js';

export function intOption(value: string | undefined, option: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || +value < min || +value > max) throw new UsageError(t('option.int', { option, min, max, value }));
  return +value;
}

export function zonesOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const zones = value
    .split(',')
    .map((z) => z.trim())
    .filter(Boolean);
  for (const z of zones) if (!Id.safeParse(z).success) throw new UsageError(t('option.zone', { value: z }));
  return zones.length > 0 ? zones : undefined;
}
