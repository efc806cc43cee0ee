import { z } from 'zod';

/**
 * Where a zone's audio goes. Shared by the station config and the fleet file, so what
 * `loa provision` writes is exactly what `loa-station` accepts. Config schema, not wire format:
 * the messages are worded for someone editing YAML.
 */
const NonEmpty = (what: string) => z.string({ error: `expected ${what}` }).min(1, `expected ${what}`);
const Argv = z
  .array(NonEmpty('a non-empty string'), { error: 'expected a command as a list of arguments, e.g. [/usr/bin/gpioset, ...]' })
  .min(1, 'expected a command as a list of at least one argument');

export const ZoneOutputSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('file'), dir: NonEmpty('a directory path') }),
    z.strictObject({ type: z.literal('null') }),
    z.strictObject({ type: z.literal('command'), argv: Argv }),
    z.strictObject({ type: z.literal('alsa'), device: NonEmpty('an ALSA device name, e.g. "default" or "hw:0,0"') }),
  ],
  { error: 'expected an output with type file, null, command or alsa' },
);

export type ZoneOutputConfig = { type: 'file'; dir: string } | { type: 'null' } | { type: 'command'; argv: string[] } | { type: 'alsa'; device: string };
