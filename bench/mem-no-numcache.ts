// Diagnostic preload (not used by `npm run bench`): turns off mqtt-packet's eager cache of
// 65,536 two-byte Buffers, the effect of passing `writeCache: false` to mqtt.connect().
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
(require('mqtt-packet') as { writeToStream: { cacheNumbers: boolean } }).writeToStream.cacheNumbers = false;
