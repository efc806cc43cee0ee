// Geometry for CAP areas: WGS 84 decimal degrees, planar tests on lat/lon (areas are ward-sized,
// so the flat approximation is far below the accuracy of a station's configured location).
// No antimeridian support: a ring crossing ±180° is tested as if it wrapped the other way round
// the globe. Vietnam is nowhere near it.

export interface LatLon {
  lat: number;
  lon: number;
}

export interface Circle {
  center: LatLon;
  radiusKm: number;
}

/** Mean Earth radius (IUGG), km. */
export const EARTH_RADIUS_KM = 6371.0088;

// ~0.1 mm at the equator: absorbs float noise when a point sits exactly on an edge.
const EDGE_EPS = 1e-9;

function onSegment(p: LatLon, a: LatLon, b: LatLon): boolean {
  const dx = b.lon - a.lon;
  const dy = b.lat - a.lat;
  const len = Math.hypot(dx, dy);
  if (len === 0) return Math.abs(p.lon - a.lon) <= EDGE_EPS && Math.abs(p.lat - a.lat) <= EDGE_EPS;
  const cross = (dx * (p.lat - a.lat) - dy * (p.lon - a.lon)) / len;
  if (Math.abs(cross) > EDGE_EPS) return false;
  const t = (dx * (p.lon - a.lon) + dy * (p.lat - a.lat)) / (len * len);
  return t >= -EDGE_EPS && t <= 1 + EDGE_EPS;
}

/**
 * Ray casting (even-odd) with lon as x and lat as y. Points exactly on an edge or vertex count
 * as inside: a station on a ward boundary should hear a warning for either side.
 * The ring may be closed (first == last, as CAP requires) or open.
 */
export function pointInPolygon(point: LatLon, ring: readonly LatLon[]): boolean {
  const n = ring.length;
  if (n === 0) return false;
  for (let i = 0, j = n - 1; i < n; j = i++) if (onSegment(point, ring[j], ring[i])) return true;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const a = ring[i];
    const b = ring[j];
    if (a.lat > point.lat !== b.lat > point.lat) {
      const x = a.lon + ((point.lat - a.lat) * (b.lon - a.lon)) / (b.lat - a.lat);
      if (point.lon < x) inside = !inside;
    }
  }
  return inside;
}

const rad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance by the haversine formula. */
export function distanceKm(a: LatLon, b: LatLon): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Inclusive: a station exactly on the circle is inside. */
export function inCircle(point: LatLon, circle: Circle): boolean {
  return distanceKm(point, circle.center) <= circle.radiusKm;
}

export type GeoParse<T> = { ok: true; value: T } | { ok: false; reason: string };

// Plain decimal only: "1e2", "0x10", "Infinity" and "" are not CAP coordinates.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

function decimal(s: string): number | undefined {
  return DECIMAL.test(s) ? Number(s) : undefined;
}

/** CAP "lat,lon" pair (WGS 84). */
export function parsePoint(pair: string): GeoParse<LatLon> {
  const parts = pair.split(',');
  if (parts.length !== 2) return { ok: false, reason: `expected "lat,lon", got "${pair}"` };
  const lat = decimal(parts[0]);
  const lon = decimal(parts[1]);
  if (lat === undefined || lon === undefined) return { ok: false, reason: `expected decimal "lat,lon", got "${pair}"` };
  if (lat < -90 || lat > 90) return { ok: false, reason: `latitude ${lat} is outside [-90, 90] in "${pair}"` };
  if (lon < -180 || lon > 180) return { ok: false, reason: `longitude ${lon} is outside [-180, 180] in "${pair}"` };
  return { ok: true, value: { lat, lon } };
}

/** CAP polygon: at least 4 whitespace-separated "lat,lon" pairs, first == last. */
export function parsePolygon(text: string): GeoParse<LatLon[]> {
  const pairs = text.trim().split(/\s+/).filter(Boolean);
  if (pairs.length < 4) return { ok: false, reason: `a polygon needs at least 4 "lat,lon" pairs (first == last), got ${pairs.length}` };
  const ring: LatLon[] = [];
  for (const [i, pair] of pairs.entries()) {
    const p = parsePoint(pair);
    if (!p.ok) return { ok: false, reason: `pair ${i + 1}: ${p.reason}` };
    ring.push(p.value);
  }
  const first = ring[0];
  const last = ring[ring.length - 1];
  if (first.lat !== last.lat || first.lon !== last.lon) {
    return { ok: false, reason: `polygon is not closed: first pair "${pairs[0]}" differs from last "${pairs[pairs.length - 1]}"` };
  }
  return { ok: true, value: ring };
}

/** CAP circle: "lat,lon radius", radius in km, >= 0. */
export function parseCircle(text: string): GeoParse<Circle> {
  const parts = text.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== 2) return { ok: false, reason: `expected "lat,lon radius", got "${text.trim()}"` };
  const c = parsePoint(parts[0]);
  if (!c.ok) return c;
  const r = decimal(parts[1]);
  if (r === undefined || r < 0) return { ok: false, reason: `radius must be a decimal number of km >= 0, got "${parts[1]}"` };
  return { ok: true, value: { center: c.value, radiusKm: r } };
}
