import { assertId, isId, isSha256 } from './ids.js';

export const DEFAULT_TOPIC_ROOT = 'loa/v1';
/** MQTT client ids of central clients (and shared-subscription group names). */
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The one place topic strings are built and parsed. */
export class Topics {
  readonly root: string;

  constructor(root: string = DEFAULT_TOPIC_ROOT) {
    if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(root)) {
      throw new Error(`invalid topic root ${JSON.stringify(root)}: expected segments of [A-Za-z0-9_-] separated by /`);
    }
    this.root = root;
  }

  stationCmd(station: string): string {
    return `${this.root}/station/${assertId(station, 'station id')}/cmd`;
  }
  groupCmd(group: string): string {
    return `${this.root}/group/${assertId(group, 'group id')}/cmd`;
  }
  allCmd(): string {
    return `${this.root}/all/cmd`;
  }
  schedule(station: string): string {
    return `${this.root}/station/${assertId(station, 'station id')}/schedule`;
  }
  state(station: string): string {
    return `${this.root}/station/${assertId(station, 'station id')}/state`;
  }
  telemetry(station: string): string {
    return `${this.root}/station/${assertId(station, 'station id')}/telemetry`;
  }
  ack(station: string): string {
    return `${this.root}/station/${assertId(station, 'station id')}/ack`;
  }
  media(sha256: string): string {
    if (!isSha256(sha256)) throw new Error(`invalid sha256 ${JSON.stringify(sha256)}`);
    return `${this.root}/media/${sha256}`;
  }
  centralState(): string {
    return `${this.root}/central/state`;
  }
  receipt(station: string): string {
    return `${this.root}/central/receipt/${assertId(station, 'station id')}`;
  }
  /** Partly signed live-alert drafts: stations fetch their clips while a second official approves (prefetch.ts). */
  prefetch(): string {
    return `${this.root}/central/prefetch`;
  }
  /** One collector's presence (central only; stations never read it). */
  collectorState(clientId: string): string {
    if (!CLIENT_ID.test(clientId)) throw new Error(`invalid collector client id ${JSON.stringify(clientId)}: expected [A-Za-z0-9_-]{1,64}`);
    return `${this.root}/central/collector/${clientId}`;
  }

  /** Wildcards the collector subscribes to. */
  allStates(): string {
    return `${this.root}/station/+/state`;
  }
  allTelemetry(): string {
    return `${this.root}/station/+/telemetry`;
  }
  allAcks(): string {
    return `${this.root}/station/+/ack`;
  }
  allCollectorStates(): string {
    return `${this.root}/central/collector/+`;
  }
  /** `$share/<group>/<filter>`: each message goes to one member of the group (several collectors). */
  shared(group: string, filter: string): string {
    if (!CLIENT_ID.test(group)) throw new Error(`invalid shared subscription group ${JSON.stringify(group)}: expected [A-Za-z0-9_-]{1,64}`);
    return `$share/${group}/${filter}`;
  }

  /** Every topic a station subscribes to: its own cmd and schedule, its groups, all, central state, its receipts, draft prefetch hints. */
  stationSubscriptions(station: string, groups: readonly string[]): string[] {
    return [this.stationCmd(station), this.schedule(station), ...groups.map((g) => this.groupCmd(g)), this.allCmd(), this.centralState(), this.receipt(station), this.prefetch()];
  }

  parse(topic: string): ParsedTopic | undefined {
    if (!topic.startsWith(this.root + '/')) return undefined;
    const parts = topic.slice(this.root.length + 1).split('/');
    const [a, b, c, d] = parts;
    if (parts.length === 3 && a === 'station' && isId(b)) {
      if (c === 'cmd' || c === 'schedule' || c === 'state' || c === 'telemetry' || c === 'ack') {
        return { kind: c, station: b };
      }
    }
    if (parts.length === 3 && a === 'group' && isId(b) && c === 'cmd') return { kind: 'group-cmd', group: b };
    if (parts.length === 2 && a === 'all' && b === 'cmd') return { kind: 'all-cmd' };
    if (parts.length === 2 && a === 'media' && isSha256(b)) return { kind: 'media', sha256: b };
    if (parts.length === 2 && a === 'central' && b === 'state') return { kind: 'central-state' };
    if (parts.length === 3 && a === 'central' && b === 'receipt' && isId(c)) return { kind: 'receipt', station: c };
    if (parts.length === 2 && a === 'central' && b === 'prefetch') return { kind: 'prefetch' };
    if (parts.length === 3 && a === 'central' && b === 'collector' && c !== undefined && CLIENT_ID.test(c)) return { kind: 'collector-state', clientId: c };
    void d;
    return undefined;
  }
}

export type ParsedTopic =
  | { kind: 'cmd' | 'schedule' | 'state' | 'telemetry' | 'ack'; station: string }
  | { kind: 'group-cmd'; group: string }
  | { kind: 'all-cmd' }
  | { kind: 'media'; sha256: string }
  | { kind: 'central-state' }
  | { kind: 'receipt'; station: string }
  | { kind: 'prefetch' }
  | { kind: 'collector-state'; clientId: string };

/** Largest media clip carried over MQTT (retained). */
export const MAX_MEDIA_BYTES = 16 * 1024 * 1024;
/** Largest command or schedule document a station will parse. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
