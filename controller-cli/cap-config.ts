// The fleet file's `cap:` section (docs/cap.md): who may send warnings, what their geocodes mean
// here, and how a warning without audio is spoken. fleet.ts reads it with the rest of the file.
import { z } from 'zod';
import { Id } from '../protocol/index.js';
import { capTemplateError } from './cap/template.js';

const HttpsOrHttpUrl = z
  .string()
  .max(2048)
  .regex(/^https?:\/\/[^\s]+$/i, 'expected an http(s) URL');

const Repeat = z.number().int().min(1).max(20);

export const CapConfigSchema = z.strictObject({
  /** Trusted senders (`<sender>`), with the feed each one publishes, when it has one. */
  sources: z.array(z.strictObject({ sender: z.string().min(1).max(500), url: HttpsOrHttpUrl.optional() })).default([]),
  /** `<geocode>` value → stations and groups. */
  areas: z
    .array(
      z.strictObject({
        valueName: z.string().min(1).max(200),
        value: z.string().min(1).max(200),
        targets: z.array(Id).min(1, 'expected at least one station or group id'),
      }),
    )
    .default([]),
  /** Languages to prefer after vi-VN and vi, in order. */
  languages: z.array(z.string().regex(/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/, 'expected a language tag like en-US')).default([]),
  /** What is spoken when a message brings no audio; placeholders in cap/template.ts. */
  template: z.string().max(2000).optional(),
  /** Repeat count of Immediate + Extreme / Severe warnings (1–20; default 1). */
  repeat: z.strictObject({ immediateExtreme: Repeat.optional(), immediateSevere: Repeat.optional() }).prefault({}),
  /** Lifetime of a broadcast whose message has no `<expires>` (hours, at most the 7-day command bound). */
  lifetimeHours: z.number().int().min(1).max(168).default(6),
  /** How often `loa cap watch` polls a feed (seconds). */
  pollSec: z.number().int().min(5).max(86_400).default(60),
});
export type CapConfig = z.infer<typeof CapConfigSchema>;

export const DEFAULT_CAP_CONFIG: CapConfig = CapConfigSchema.parse({});

/** Cross-checks the schema cannot make: the first problem as a key path under `cap` and what was expected. */
export function capConfigProblem(cap: CapConfig, known: { stations: string[]; groups: string[] }): { path: (string | number)[]; expected: string } | undefined {
  for (const [i, area] of cap.areas.entries()) {
    for (const [j, target] of area.targets.entries()) {
      if (!known.stations.includes(target) && !known.groups.includes(target)) {
        return { path: ['areas', i, 'targets', j], expected: `a station or group id, got "${target}"` };
      }
    }
  }
  const seen = new Set<string>();
  for (const [i, area] of cap.areas.entries()) {
    const key = `${area.valueName}\u0000${area.value}`;
    if (seen.has(key)) return { path: ['areas', i], expected: `one row per geocode; ${area.valueName}=${area.value} is listed twice` };
    seen.add(key);
  }
  if (cap.template !== undefined) {
    const problem = capTemplateError(cap.template);
    if (problem) return { path: ['template'], expected: problem };
  }
  return undefined;
}
