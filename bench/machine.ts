// The machine a bench run measured: CPU, cores, RAM, tool versions, date, load.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { findMosquitto } from '../support/mosquitto.js';
import { ffmpegPath } from './ffmpeg-first-byte.js';
import { loadAvg, run } from './lib.js';

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: string;
  kernel: string;
  os: string;
  node: string;
  ffmpeg: string;
  mosquitto: string;
  date: string;
  loadAtStart: string;
  disk: string;
}

export async function describeMachine(): Promise<Machine> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const cores = (cpuinfo.match(/^processor\s*:/gm) ?? []).length || os.cpus().length;
  const memKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  let osName = `${os.type()} ${os.release()}`;
  try {
    osName = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
  } catch {
    /* keep uname */
  }
  const ff = await run(ffmpegPath(), ['-version']);
  const mq = await run(findMosquitto(), ['-h']);
  const df = await run('df', ['-T', os.tmpdir()]);
  const dfLine = df.stdout.trim().split('\n')[1]?.split(/\s+/) ?? [];
  return {
    cpu,
    cores,
    ramGiB: (memKb / 1024 / 1024).toFixed(1),
    kernel: os.release(),
    os: osName,
    node: process.version,
    ffmpeg: ff.stdout.split('\n')[0]?.replace(/ Copyright.*$/, '') ?? 'unknown',
    mosquitto: (mq.stdout + mq.stderr).split('\n')[0]?.trim() ?? 'unknown',
    date: new Date().toISOString(),
    loadAtStart: loadAvg(),
    disk: dfLine.length > 1 ? `${os.tmpdir()} on ${dfLine[1]} (${dfLine[0]})` : os.tmpdir(),
  };
}
