// CAP test helpers: fixtures moved to the present, a fleet file with a `cap:` section, and a
// local HTTP server for feeds and audio resources (ETag / If-Modified-Since, request log).
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { ROOT } from './station.js';

export const CAP_FIXTURES = path.join(ROOT, 'test', 'fixtures', 'cap');
export const capFixture = (name: string): string => readFileSync(path.join(CAP_FIXTURES, name), 'utf8');

/** The instant every fixture calls its first `<sent>`. */
export const FIXTURE_SENT = Date.parse('2026-11-03T14:00:00+07:00');
const DATE_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}/g;

/** A CAP date-time in Vietnam's offset. */
export function capTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000 + 7 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+07:00');
}

/**
 * Every CAP date-time in the document (sent, expires, references…) moved by the same amount, so
 * that FIXTURE_SENT becomes `to`: fixtures written for 2026-11-03 read as if sent just now.
 */
export function shiftCap(xml: string, to: number): string {
  const shift = Math.floor((to - FIXTURE_SENT) / 1000) * 1000;
  return xml.replace(DATE_TIME, (m) => capTime(Date.parse(m) + shift));
}

/** The same shift, as an ISO instant: what `--now` to pass for a fixture's own 14:05 (+07:00). */
export const FIXTURE_NOW = '2026-11-03T07:05:00Z';

export interface CapFleetOptions {
  stations: { id: string; groups?: string[]; location?: { lat: number; lon: number } }[];
  groups?: string[];
  cap?: Record<string, unknown>;
  signers?: { key: string; allow: string[] }[];
  brokerUrl?: string;
  stationUrl?: string;
  alertQuorum?: number;
  extra?: Record<string, unknown>;
}

export function capFleetYaml(o: CapFleetOptions): string {
  return stringify({
    broker: {
      urls: [o.brokerUrl ?? 'mqtt://127.0.0.1:1'],
      stationUrls: [o.stationUrl ?? o.brokerUrl ?? 'mqtt://127.0.0.1:1'],
      username: 'loa-central',
      passwordFile: 'secrets/central.password',
      listener: { stationPort: 1884 },
    },
    signers: o.signers ?? [
      { key: 'office', allow: ['schedule', 'announce', 'alert', 'cancel', 'control'] },
      { key: 'duty', allow: ['alert', 'cancel'] },
    ],
    defaultKey: 'office',
    alertQuorum: o.alertQuorum ?? 2,
    stationDefaults: { dataDir: 'unused', output: { type: 'null' }, defaultVolume: 80, maxVolume: 100 },
    groups: (o.groups ?? [...new Set(o.stations.flatMap((s) => s.groups ?? []))]).map((g) => ({ id: g, name: `Cụm ${g}` })),
    stations: o.stations.map((s) => ({ id: s.id, name: `Trạm ${s.id}`, groups: s.groups ?? [], ...(s.location ? { location: s.location } : {}) })),
    ...(o.cap ? { cap: o.cap } : {}),
    ...(o.extra ?? {}),
  });
}

export function writeCapFleet(file: string, o: CapFleetOptions): string {
  writeFileSync(file, capFleetYaml(o));
  return file;
}

/** Hội An stations (fleet.yaml locations) and the geocode table of test/cap-map.test.ts. */
export const HOI_AN_STATIONS: CapFleetOptions['stations'] = [
  { id: 'phuong-minh-an', groups: ['hoi-an'], location: { lat: 15.8771, lon: 108.328 } },
  { id: 'phuong-cam-pho', groups: ['hoi-an'], location: { lat: 15.879, lon: 108.319 } },
  { id: 'phuong-son-phong', groups: ['hoi-an'], location: { lat: 15.885, lon: 108.33 } },
  { id: 'phuong-cam-nam', groups: ['hoi-an'], location: { lat: 15.867, lon: 108.335 } },
  { id: 'phuong-cam-chau', groups: ['hoi-an-dong'], location: { lat: 15.89, lon: 108.355 } },
  { id: 'xa-cam-thanh', groups: ['hoi-an-dong'], location: { lat: 15.872, lon: 108.37 } },
  { id: 'xa-tan-hiep', groups: ['tan-hiep'], location: { lat: 15.955, lon: 108.51 } },
];

export const HOI_AN_CAP = {
  sources: [{ sender: 'canh-bao@nchmf.gov.vn' }, { sender: 'pccc@hoian.example.vn' }],
  areas: [
    { valueName: 'MA_DVHC', value: '503', targets: ['hoi-an', 'hoi-an-dong'] },
    { valueName: 'MA_DVHC', value: '20470', targets: ['phuong-minh-an'] },
    { valueName: 'MA_DVHC', value: '20497', targets: ['tan-hiep'] },
  ],
  languages: ['en-US'],
  repeat: { immediateSevere: 2, immediateExtreme: 3 },
};

// ---- HTTP --------------------------------------------------------------------------------

export interface Route {
  body: Buffer | string;
  type?: string;
  etag?: string;
  lastModified?: string;
  /** Answer with this status and no body instead. */
  status?: number;
}

export interface RouteServer {
  url: string;
  /** Every request, in order: path, the conditional headers it sent, and the status answered. */
  requests: { path: string; ifNoneMatch?: string; ifModifiedSince?: string; status: number }[];
  set(path: string, route: Route): void;
  close(): void;
}

export async function serveRoutes(initial: Record<string, Route> = {}): Promise<RouteServer> {
  const routes = new Map(Object.entries(initial));
  const requests: RouteServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes.get(p);
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    const log = (status: number) => requests.push({ path: p, ...(inm ? { ifNoneMatch: String(inm) } : {}), ...(ims ? { ifModifiedSince: String(ims) } : {}), status });
    if (!route) {
      log(404);
      res.writeHead(404).end();
      return;
    }
    if (route.status !== undefined) {
      log(route.status);
      res.writeHead(route.status).end();
      return;
    }
    if ((route.etag && inm === route.etag) || (route.lastModified && ims === route.lastModified)) {
      log(304);
      res.writeHead(304).end();
      return;
    }
    log(200);
    res.writeHead(200, {
      'content-type': route.type ?? 'application/xml',
      ...(route.etag ? { etag: route.etag } : {}),
      ...(route.lastModified ? { 'last-modified': route.lastModified } : {}),
    });
    res.end(route.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    set: (p, r) => routes.set(p, r),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
