import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { makeKey, STATION_BIN, writeStationConfig } from '../support/station.js';
import { tempDir } from '../support/tmp.js';

function station(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [STATION_BIN, ...args], { env: { ...process.env, LANG: 'C', LC_ALL: '', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('loa-station doctor, log and config errors', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  test('doctor passes on a healthy box and says what it checked', async () => {
    const dir = tempDir('loa-doctor-');
    const config = writeStationConfig({ id: 'tan-an', dir, brokerUrl: broker.url, keys: [makeKey('ward')] });
    const r = await station(['doctor', '--config', config, '--json']);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    // No collector runs here, and this test machine has no time-sync daemon (a ward box must).
    const failing = report.checks.filter((c) => !c.ok && c.name !== 'collector' && c.name !== 'ntp');
    expect(failing).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['config', 'ffmpeg', 'zone main', 'disk', 'store', 'ntp', 'broker', 'clock']));
  });

  test('doctor reports an unreachable broker and exits 1', async () => {
    const dir = tempDir('loa-doctor-');
    const config = writeStationConfig({ id: 'tan-an', dir, brokerUrl: 'mqtt://127.0.0.1:1', keys: [makeKey('ward')] });
    const r = await station(['doctor', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+broker/);
  });

  test('a config error names the file, the key path and what was expected', async () => {
    const dir = tempDir('loa-badconf-');
    const file = path.join(dir, 'station.yaml');
    writeFileSync(file, 'station: {id: "../x", name: X}\nbroker: {urls: [mqtt://127.0.0.1:1]}\nzones: []\nkeys: []\n');
    const r = await station(['run', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('station.yaml');
    expect(r.stderr).toContain('station.id');
    expect(r.stderr).toMatch(/expected/);
  });

  test('log on a fresh box says nothing has aired; Vietnamese when LANG=vi', async () => {
    const dir = tempDir('loa-log-');
    const config = writeStationConfig({ id: 'tan-an', dir, brokerUrl: broker.url, keys: [makeKey('ward')] });
    expect((await station(['log', '--config', config])).stdout).toContain('nothing has aired yet');
    expect((await station(['log', '--config', config], { LANG: 'vi_VN.UTF-8' })).stdout).toContain('chưa phát bản tin nào');
  });
});
