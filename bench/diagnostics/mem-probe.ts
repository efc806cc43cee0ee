// Diagnostic preload (NODE_OPTIONS="--import .../dist/bench/diagnostics/mem-probe.js"): prints
// process.memoryUsage() to stderr every 5 s. Not used by `npm run bench` itself.
const mb = (n: number) => (n / 1048576).toFixed(1);
setInterval(() => {
  const m = process.memoryUsage();
  process.stderr.write(`mem rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`);
}, 5000).unref();
