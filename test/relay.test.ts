import { describe, expect, it } from 'vitest';
import { runRelay } from '../daemon/relay.js';

describe('runRelay', () => {
  it('reports success for a command that exits 0', async () => {
    const r = await runRelay(['true'], 5000);
    expect(r).toEqual({ ok: true, code: 0, stderr: '' });
  });

  it('reports the exit code of a failing command', async () => {
    const r = await runRelay(['false'], 5000);
    expect(r.ok).toBe(false);
    expect(r.code).toBe(1);
    expect(r.reason).toBe('exit code 1');
  });

  it('keeps stderr for the log', async () => {
    const r = await runRelay(['sh', '-c', 'echo relay jammed >&2; exit 3'], 5000);
    expect(r).toMatchObject({ ok: false, code: 3, stderr: 'relay jammed\n' });
  });

  it('kills a command that outlives the timeout', async () => {
    const started = Date.now();
    const r = await runRelay(['sleep', '30'], 300);
    const took = Date.now() - started;
    expect(r.ok).toBe(false);
    expect(r.reason).toBe('timeout');
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(5000);
  });

  it('passes arguments verbatim, never through a shell', async () => {
    const r = await runRelay(['sh', '-c', 'printf %s "$1" >&2', 'sh', '$(echo injected); `id`'], 5000);
    expect(r.ok).toBe(true);
    expect(r.stderr).toBe('$(echo injected); `id`');
  });

  it('does not throw when the program does not exist', async () => {
    const r = await runRelay(['/nonexistent/relay-tool', 'on'], 5000);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/ENOENT/);
  });

  it('does not throw for an empty command', async () => {
    const r = await runRelay([], 5000);
    expect(r).toMatchObject({ ok: false, reason: 'empty relay command' });
  });
});
