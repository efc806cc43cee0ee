// A schematic map: station dots placed by their fleet-file location, drawn as SVG. No tiles,
// no fonts, nothing fetched from elsewhere: it works on a closed office network.
import type { FleetView, StationView } from '../../../shared/api';
import { type Health, health } from '../health';
import { tx } from '../i18n';

const COLOURS: Record<Health, string> = { ok: '#1a7f37', warn: '#b7791f', offline: '#c62828', silent: '#c62828', unknown: '#888' };
const W = 640;
const H = 360;
const PAD = 28;
const LABEL_PX_PER_CHAR = 6.6;

export function StationMap({
  fleet,
  stations,
  now,
  highlight,
  onPick,
}: {
  fleet: FleetView;
  stations: Map<string, StationView>;
  now: number;
  /** Stations to ring (an alert's targets). */
  highlight?: Set<string>;
  onPick?: (id: string) => void;
}) {
  const placed = fleet.stations.filter((s) => s.location);
  if (placed.length === 0) return null;
  const lats = placed.map((s) => s.location!.lat);
  const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
  // Equirectangular with the longitude scaled by cos(latitude): true enough across a city.
  const k = Math.cos((midLat * Math.PI) / 180);
  const xs = placed.map((s) => s.location!.lon * k);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...lats), Math.max(...lats)];
  const scale = Math.min((W - 2 * PAD) / Math.max(maxX - minX, 1e-4), (H - 2 * PAD) / Math.max(maxY - minY, 1e-4));
  // Centre the drawing in the frame.
  const offX = (W - (maxX - minX) * scale) / 2;
  const offY = (H - (maxY - minY) * scale) / 2;
  const pts = placed.map((s) => ({ s, x: offX + (s.location!.lon * k - minX) * scale, y: H - offY - (s.location!.lat - minY) * scale }));
  // Labels only where they do not cover another label: the rest are named on hover and in the table.
  const boxes: { x0: number; x1: number; y0: number; y1: number }[] = [];
  const labelled = new Set<string>();
  for (const p of [...pts].sort((a, b) => a.y - b.y)) {
    const w = p.s.name.length * LABEL_PX_PER_CHAR;
    const left = p.x + 10 + w > W;
    const box = { x0: left ? p.x - 10 - w : p.x + 10, x1: left ? p.x - 10 : p.x + 10 + w, y0: p.y - 8, y1: p.y + 8 };
    if (boxes.some((b) => box.x0 < b.x1 && b.x0 < box.x1 && box.y0 < b.y1 && b.y0 < box.y1)) continue;
    boxes.push(box);
    labelled.add(p.s.id);
  }
  return (
    <svg class="map" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="map">
      <rect x="0" y="0" width={W} height={H} class="map-bg" />
      {pts.map(({ s, x, y }) => {
        const v = stations.get(s.id);
        const h = v ? health(v, now) : 'unknown';
        const left = x + 10 + s.name.length * LABEL_PX_PER_CHAR > W;
        return (
          // biome-ignore lint/a11y/noStaticElementInteractions: the station list beside the map is the keyboard path
          <g key={s.id} class={`pin pin-${h}`} data-station={s.id} data-health={h} onClick={() => onPick?.(s.id)}>
            <title>{`${s.name}: ${tx('health', h)}`}</title>
            {highlight?.has(s.id) && <circle cx={x} cy={y} r="11" class="ring" />}
            <circle cx={x} cy={y} r="6" fill={COLOURS[h]} stroke="#fff" stroke-width="1.5" />
            {labelled.has(s.id) && (
              <text x={left ? x - 10 : x + 10} y={y + 4} text-anchor={left ? 'end' : 'start'}>
                {s.name}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
