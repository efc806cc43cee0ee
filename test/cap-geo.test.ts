import { describe, expect, it } from 'vitest';
import { distanceKm, EARTH_RADIUS_KM, inCircle, type LatLon, parseCircle, parsePoint, parsePolygon, pointInPolygon } from '../controller-cli/cap/index.js';

const P = (lat: number, lon: number): LatLon => ({ lat, lon });
const MINH_AN = P(15.8771, 108.328);
const CAM_THANH = P(15.872, 108.37);
const TAN_HIEP = P(15.955, 108.51);
const OLD_TOWN = P(15.877, 108.326);
const OLD_TOWN_RING = [P(15.873, 108.3225), P(15.8745, 108.332), P(15.88, 108.3335), P(15.8815, 108.326), P(15.8775, 108.3215), P(15.873, 108.3225)];
const SQUARE = [P(0, 0), P(0, 1), P(1, 1), P(1, 0), P(0, 0)];

describe('distanceKm', () => {
  it('is zero for the same point and symmetric', () => {
    expect(distanceKm(MINH_AN, MINH_AN)).toBe(0);
    expect(distanceKm(MINH_AN, TAN_HIEP)).toBeCloseTo(distanceKm(TAN_HIEP, MINH_AN), 9);
  });
  it('gives one degree of latitude as 2πR/360 on the mean-radius sphere', () => {
    expect(distanceKm(P(10, 108), P(11, 108))).toBeCloseTo((2 * Math.PI * EARTH_RADIUS_KM) / 360, 6);
  });
  it('puts Cù Lao Chàm about 21 km from the old town', () => {
    expect(distanceKm(OLD_TOWN, TAN_HIEP)).toBeGreaterThan(20);
    expect(distanceKm(OLD_TOWN, TAN_HIEP)).toBeLessThan(23);
  });
});

describe('inCircle', () => {
  it('a 3 km circle around the old town reaches Minh An but not Tân Hiệp or Cẩm Thanh', () => {
    const c = { center: OLD_TOWN, radiusKm: 3 };
    expect(inCircle(MINH_AN, c)).toBe(true);
    expect(inCircle(TAN_HIEP, c)).toBe(false);
    expect(inCircle(CAM_THANH, c)).toBe(false);
  });
  it('counts a point exactly on the circle as inside, and a zero radius as its centre only', () => {
    const d = distanceKm(OLD_TOWN, MINH_AN);
    expect(inCircle(MINH_AN, { center: OLD_TOWN, radiusKm: d })).toBe(true);
    expect(inCircle(OLD_TOWN, { center: OLD_TOWN, radiusKm: 0 })).toBe(true);
    expect(inCircle(MINH_AN, { center: OLD_TOWN, radiusKm: 0 })).toBe(false);
  });
});

describe('pointInPolygon', () => {
  it('finds points inside and outside a square', () => {
    expect(pointInPolygon(P(0.5, 0.5), SQUARE)).toBe(true);
    expect(pointInPolygon(P(1.5, 0.5), SQUARE)).toBe(false);
    expect(pointInPolygon(P(-0.1, -0.1), SQUARE)).toBe(false);
  });
  it('counts points on an edge or a vertex as inside', () => {
    expect(pointInPolygon(P(0, 0.5), SQUARE)).toBe(true);
    expect(pointInPolygon(P(0.3, 1), SQUARE)).toBe(true);
    expect(pointInPolygon(P(1, 1), SQUARE)).toBe(true);
    expect(pointInPolygon(P(0.1 + 0.2, 0), SQUARE)).toBe(true); // float noise on the edge
  });
  it('handles a concave ring: the notch of a U is outside', () => {
    const u = [P(0, 0), P(3, 0), P(3, 1), P(1, 1), P(1, 2), P(3, 2), P(3, 3), P(0, 3), P(0, 0)];
    expect(pointInPolygon(P(2, 1.5), u)).toBe(false);
    expect(pointInPolygon(P(0.5, 1.5), u)).toBe(true);
    expect(pointInPolygon(P(2, 0.5), u)).toBe(true);
  });
  it('accepts an open ring the same as a closed one, and an empty ring contains nothing', () => {
    expect(pointInPolygon(P(0.5, 0.5), SQUARE.slice(0, 4))).toBe(true);
    expect(pointInPolygon(P(0.5, 0.5), [])).toBe(false);
  });
  it('the old-town polygon includes Minh An and excludes Cẩm Thanh and Tân Hiệp', () => {
    expect(pointInPolygon(MINH_AN, OLD_TOWN_RING)).toBe(true);
    expect(pointInPolygon(CAM_THANH, OLD_TOWN_RING)).toBe(false);
    expect(pointInPolygon(TAN_HIEP, OLD_TOWN_RING)).toBe(false);
  });
});

describe('parsePoint / parsePolygon / parseCircle', () => {
  it('reads a closed polygon across line breaks and extra spaces', () => {
    const r = parsePolygon('  15.873,108.3225 15.8745,108.332\n\t15.88,108.3335   15.873,108.3225 ');
    expect(r).toEqual({ ok: true, value: [P(15.873, 108.3225), P(15.8745, 108.332), P(15.88, 108.3335), P(15.873, 108.3225)] });
  });
  it('refuses a polygon with fewer than 4 pairs', () => {
    const r = parsePolygon('1,1 2,2 1,1');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/at least 4/);
  });
  it('refuses a polygon that is not closed', () => {
    const r = parsePolygon('0,0 0,1 1,1 1,0');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/not closed/);
  });
  it('refuses coordinates out of range or not plain decimals', () => {
    expect(parsePoint('91,0').ok).toBe(false);
    expect(parsePoint('0,180.5').ok).toBe(false);
    expect(parsePoint('1e1,0').ok).toBe(false);
    expect(parsePoint('0x10,0').ok).toBe(false);
    expect(parsePoint('1,2,3').ok).toBe(false);
    expect(parsePoint('-90,-180')).toEqual({ ok: true, value: P(-90, -180) });
  });
  it('reads a circle "lat,lon radius" and refuses a negative or missing radius', () => {
    expect(parseCircle('15.877,108.326 3')).toEqual({ ok: true, value: { center: OLD_TOWN, radiusKm: 3 } });
    expect(parseCircle('15.877,108.326 0')).toEqual({ ok: true, value: { center: OLD_TOWN, radiusKm: 0 } });
    expect(parseCircle('15.877,108.326 -1').ok).toBe(false);
    expect(parseCircle('15.877,108.326').ok).toBe(false);
    expect(parseCircle('15.877,108.326 3 4').ok).toBe(false);
  });
});
