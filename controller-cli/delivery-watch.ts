import type { MqttClient } from 'mqtt';
import { t } from '../io/i18n.js';
import { Ack, type AckState, type Topics } from '../protocol/index.js';
import { renderTable, terminalSafe } from './output.js';

const RANK: Record<AckState, number> = {
  received: 1,
  scheduled: 2,
  applied: 2,
  rejected: 5,
  failed: 5,
  missed: 5,
  preempted: 5,
  cancelled: 5,
  started: 6,
  completed: 7,
};
const FAILED: readonly AckState[] = ['rejected', 'failed', 'missed', 'preempted', 'cancelled'];

export interface StationDelivery {
  station: string;
  state: AckState | 'none';
  at?: string;
  reason?: string;
}

/**
 * Follows the acks of one command live (subscribed before publishing, so none is missed).
 * `confirm` are the states that count as delivered: started/completed for a broadcast.
 */
export class DeliveryWatch {
  private readonly latest = new Map<string, StationDelivery>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly client: MqttClient,
    private readonly topics: Topics,
    readonly commandId: string,
    readonly stations: string[],
    private readonly confirm: readonly AckState[] = ['started', 'completed'],
  ) {
    for (const s of stations) this.latest.set(s, { station: s, state: 'none' });
  }

  async start(): Promise<void> {
    this.client.on('message', this.onMessage);
    await this.client.subscribeAsync(this.topics.allAcks(), { qos: 1 });
  }

  private readonly onMessage = (topic: string, payload: Buffer): void => {
    const parsed = this.topics.parse(topic);
    if (parsed?.kind !== 'ack') return;
    let ack: Ack;
    try {
      ack = Ack.parse(JSON.parse(payload.toString('utf8')));
    } catch {
      return;
    }
    if (ack.station !== parsed.station) return;
    if (ack.commandId !== this.commandId && ack.broadcastId !== this.commandId) return;
    const cur = this.latest.get(ack.station);
    if (!cur) return;
    if (cur.state !== 'none' && RANK[ack.state] < RANK[cur.state]) return;
    this.latest.set(ack.station, { station: ack.station, state: ack.state, at: ack.at, ...(ack.reason ? { reason: ack.reason } : {}) });
    for (const l of this.listeners) l();
  };

  snapshot(): StationDelivery[] {
    return this.stations.map((s) => this.latest.get(s)!);
  }

  confirmed(): string[] {
    return this.snapshot()
      .filter((d) => d.state !== 'none' && this.confirm.includes(d.state))
      .map((d) => d.station);
  }

  failed(): string[] {
    return this.snapshot()
      .filter((d) => d.state !== 'none' && FAILED.includes(d.state) && !this.confirm.includes(d.state))
      .map((d) => d.station);
  }

  private done(): boolean {
    return this.snapshot().every((d) => d.state !== 'none' && (this.confirm.includes(d.state) || FAILED.includes(d.state)));
  }

  progressLine(): string {
    return t('wait.progress', { confirmed: this.confirmed().length, total: this.stations.length, failed: this.failed().length });
  }

  /** Resolve when every station confirmed or failed, or after `seconds`. */
  wait(seconds: number, onChange: () => void): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const check = () => {
        onChange();
        if (this.done()) finish();
      };
      const timer = setTimeout(finish, seconds * 1000);
      this.listeners.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    this.client.off('message', this.onMessage);
    await this.client.unsubscribeAsync(this.topics.allAcks()).catch(() => undefined);
  }
}

export interface DeliveryResult {
  waitedSec: number;
  delivered: string[];
  notDelivered: string[];
  acks: StationDelivery[];
}

/**
 * Runs the wait with a live progress bar on a TTY and plain lines otherwise. Prints the table
 * unless `json` (the caller prints one JSON document with the result); returns it with the
 * exit code (3 = some stations did not confirm).
 */
export async function followDelivery(watch: DeliveryWatch, seconds: number, json: boolean): Promise<{ code: number; result: DeliveryResult }> {
  const tty = process.stderr.isTTY === true && !json;
  let last = '';
  const seen = new Map<string, string>();
  await watch.wait(seconds, () => {
    if (json) return;
    if (tty) {
      const total = watch.stations.length;
      const ok = watch.confirmed().length;
      const barWidth = 26;
      const filled = total === 0 ? barWidth : Math.round((ok / total) * barWidth);
      const line = `\r[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${watch.progressLine()}`;
      if (line !== last) process.stderr.write(line);
      last = line;
    } else {
      for (const d of watch.snapshot()) {
        if (d.state !== 'none' && seen.get(d.station) !== d.state) {
          seen.set(d.station, d.state);
          process.stderr.write(`${d.station} ${d.state}${d.reason ? ` (${terminalSafe(d.reason)})` : ''}\n`);
        }
      }
    }
  });
  if (tty) process.stderr.write('\n');
  await watch.stop();
  const missing = watch.stations.filter((s) => !watch.confirmed().includes(s));
  const rows = watch.snapshot();
  if (!json) {
    process.stdout.write(
      renderTable(
        [t('col.station'), t('col.state'), t('col.at'), t('col.reason')],
        rows.map((d) => [d.station, d.state === 'none' ? t('wait.noAck') : d.state, d.at, d.reason]),
      ),
    );
    process.stdout.write(watch.progressLine() + '\n');
    if (missing.length > 0) process.stdout.write(t('wait.partial', { stations: missing.join(', ') }) + '\n');
  }
  return { code: missing.length > 0 ? 3 : 0, result: { waitedSec: seconds, delivered: watch.confirmed(), notDelivered: missing, acks: rows } };
}
