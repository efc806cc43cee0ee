// The page's live state: station views from /api/stations, kept current by /api/events.
import { useEffect, useState } from 'preact/hooks';
import type { LiveEvent, StationView } from '../../shared/api';
import { api } from './api';
import { setServerNow } from './format';

type Listener = (e: LiveEvent) => void;

const stations = new Map<string, StationView>();
const listeners = new Set<Listener>();
const stationWatchers = new Set<() => void>();
let source: EventSource | null = null;
let connected = false;
let frame = 0;

/** One repaint per animation frame however many stations changed: 1,000 stations stay smooth. */
function stationsChanged(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    for (const w of stationWatchers) w();
  });
}

async function resync(): Promise<void> {
  const r = await api.get<{ serverNow: number; stations: StationView[] }>('/api/stations');
  setServerNow(r.serverNow);
  stations.clear();
  for (const s of r.stations) stations.set(s.id, s);
  stationsChanged();
}

export function startLive(): void {
  if (source) return;
  source = new EventSource('/api/events');
  source.onopen = () => {
    connected = true;
    // Anything missed while disconnected: the events carry no history, the API has it.
    void resync().catch(() => undefined);
    stationsChanged();
  };
  source.onerror = () => {
    connected = false;
    stationsChanged();
  };
  source.onmessage = (m) => {
    const e = JSON.parse(m.data as string) as LiveEvent;
    if (e.kind === 'station') {
      stations.set(e.station.id, e.station);
      stationsChanged();
    }
    for (const l of listeners) l(e);
  };
}

export function stopLive(): void {
  source?.close();
  source = null;
  connected = false;
  stations.clear();
}

export function useStations(): { stations: Map<string, StationView>; connected: boolean } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const w = () => setTick((n) => n + 1);
    stationWatchers.add(w);
    return () => stationWatchers.delete(w);
  }, []);
  return { stations, connected };
}

export function useLiveEvents(fn: Listener, deps: unknown[]): void {
  useEffect(() => {
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, deps);
}

/** Re-render every second: "silent for 40 s" must turn red without any event arriving. */
export function useClock(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}
