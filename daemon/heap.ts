// Imported first by main.ts, before anything else allocates. A station allocates little once it
// is up, but loading its modules at start-up grows V8's young generation to its 16 MiB default
// limit (two semi-spaces), and V8 gives that back only when its memory reducer runs, 15–30 s
// later. A 1 MiB semi-space keeps the resident set at its steady size from the start; the cost
// is a scavenge per MiB allocated (a command or a minute of playback is well under that).
import v8 from 'node:v8';

v8.setFlagsFromString('--max-semi-space-size=1');
