// CAP 1.2 (and 1.1) XML → validated CapAlert. Pure; never throws: every refusal names the
// element path (`alert.info[0].area[1].polygon[0]`) and says what was expected.
// Feeds are untrusted input, so hostile XML is refused before the parser ever sees it.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { type Circle, type LatLon, parseCircle, parsePolygon } from './geo.js';

export const CAP_NAMESPACES = {
  'urn:oasis:names:tc:emergency:cap:1.2': '1.2',
  'urn:oasis:names:tc:emergency:cap:1.1': '1.1',
} as const;
export type CapVersion = (typeof CAP_NAMESPACES)[keyof typeof CAP_NAMESPACES];

export const CAP_STATUS = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const;
export const CAP_MSG_TYPE = ['Alert', 'Update', 'Cancel', 'Ack', 'Error'] as const;
export const CAP_SCOPE = ['Public', 'Restricted', 'Private'] as const;
export const CAP_CATEGORY = ['Geo', 'Met', 'Safety', 'Security', 'Rescue', 'Fire', 'Health', 'Env', 'Transport', 'Infra', 'CBRNE', 'Other'] as const;
// AllClear and None are 1.2 additions; accepted in 1.1 documents too (harmless, and feeds mix).
export const CAP_RESPONSE_TYPE = ['Shelter', 'Evacuate', 'Prepare', 'Execute', 'Avoid', 'Monitor', 'Assess', 'AllClear', 'None'] as const;
export const CAP_URGENCY = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'] as const;
export const CAP_SEVERITY = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;
export const CAP_CERTAINTY = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'] as const;

export type CapStatus = (typeof CAP_STATUS)[number];
export type CapMsgType = (typeof CAP_MSG_TYPE)[number];
export type CapScope = (typeof CAP_SCOPE)[number];
export type CapCategory = (typeof CAP_CATEGORY)[number];
export type CapResponseType = (typeof CAP_RESPONSE_TYPE)[number];
export type CapUrgency = (typeof CAP_URGENCY)[number];
export type CapSeverity = (typeof CAP_SEVERITY)[number];
export type CapCertainty = (typeof CAP_CERTAINTY)[number];
export type CapPoint = LatLon;
export type CapCircle = Circle;

/** `<geocode>`, `<parameter>`, `<eventCode>`. */
export interface CapValuePair {
  valueName: string;
  value: string;
}

/** One `sender,identifier,sent` triple of `<references>`. */
export interface CapReference {
  sender: string;
  identifier: string;
  sent: string;
}

export interface CapResource {
  resourceDesc: string;
  mimeType: string;
  /** Bytes. */
  size?: number;
  uri?: string;
  /** Base64 of the content, whitespace removed. */
  derefUri?: string;
  /** SHA-1 of the content, lowercase hex. */
  digest?: string;
}

export interface CapArea {
  areaDesc: string;
  /** Closed rings (first == last). */
  polygon: CapPoint[][];
  circle: CapCircle[];
  geocode: CapValuePair[];
  /** Feet above mean sea level (per spec). */
  altitude?: number;
  ceiling?: number;
}

export interface CapInfo {
  /** RFC 3066 tag; "en-US" when absent (per spec). */
  language: string;
  category: CapCategory[];
  event: string;
  responseType: CapResponseType[];
  urgency: CapUrgency;
  severity: CapSeverity;
  certainty: CapCertainty;
  audience?: string;
  eventCode: CapValuePair[];
  /** CAP date-times as given (`2026-11-03T14:00:00+07:00`); see capTimeMs. */
  effective?: string;
  onset?: string;
  expires?: string;
  senderName?: string;
  headline?: string;
  description?: string;
  instruction?: string;
  web?: string;
  contact?: string;
  parameter: CapValuePair[];
  resource: CapResource[];
  area: CapArea[];
}

export interface CapAlert {
  version: CapVersion;
  identifier: string;
  sender: string;
  sent: string;
  status: CapStatus;
  msgType: CapMsgType;
  source?: string;
  scope: CapScope;
  restriction?: string;
  /** Space-separated list; quoted entries may contain spaces. */
  addresses?: string[];
  code: string[];
  note?: string;
  references: CapReference[];
  incidents?: string[];
  info: CapInfo[];
}

export type CapParseResult = { ok: true; message: CapAlert } | { ok: false; path: string; reason: string };

export interface CapParseOptions {
  /** Refuse larger input before parsing. Default 2 MiB. */
  maxBytes?: number;
}

export const DEFAULT_MAX_CAP_BYTES = 2 * 1024 * 1024;
const DOC = 'document';

class Refusal extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

function fail(path: string, reason: string): never {
  throw new Refusal(path, reason);
}

export function parseCap(input: Buffer | string, opts: CapParseOptions = {}): CapParseResult {
  try {
    const xml = preflight(input, opts.maxBytes ?? DEFAULT_MAX_CAP_BYTES);
    return { ok: true, message: readAlert(parseXml(xml)) };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, path: e.path, reason: e.reason };
    // The XML library's own guards (nesting depth, reserved names) land here.
    return { ok: false, path: DOC, reason: `not a readable XML document: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * The checks parseCap makes before parsing (size, UTF-8, no DTD), for the other XML a CAP feed
 * serves (an Atom or RSS index): the text with any byte-order mark removed, or why not.
 */
export function checkXmlInput(input: Buffer | string, maxBytes: number): { ok: true; text: string } | { ok: false; reason: string } {
  try {
    return { ok: true, text: preflight(input, maxBytes) };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, reason: e.reason };
    throw e;
  }
}

/** Size, encoding and DTD checks: cheap, and done before any parsing. */
function preflight(input: Buffer | string, maxBytes: number): string {
  let text: string;
  if (typeof input === 'string') {
    // Each UTF-16 unit is at least one UTF-8 byte: the length alone rejects huge strings in O(1).
    if (input.length > maxBytes || Buffer.byteLength(input, 'utf8') > maxBytes) {
      fail(DOC, `larger than ${maxBytes} bytes; refused without parsing`);
    }
    text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  } else if (Buffer.isBuffer(input)) {
    if (input.length > maxBytes) fail(DOC, `${input.length} bytes is larger than ${maxBytes}; refused without parsing`);
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input); // strips a UTF-8 BOM
    } catch {
      fail(DOC, 'not valid UTF-8');
    }
  } else {
    fail(DOC, 'expected a Buffer or a string');
  }
  // CAP never needs a DTD; refusing it outright rules out entity expansion and XXE.
  const dtd = /<!\s*(DOCTYPE|ENTITY)/i.exec(text);
  if (dtd) fail(DOC, `${dtd[1].toUpperCase()} declarations are not allowed in CAP`);
  const enc = /^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']/.exec(text);
  if (enc && !/^(utf-?8|us-ascii)$/i.test(enc[1])) fail(DOC, `only UTF-8 is supported, the declaration says ${enc[1]}`);
  return text;
}

const PARSER = new XMLParser({
  preserveOrder: true, // keeps text and CDATA pieces in order
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false, // identifiers like "0042" stay strings
  parseAttributeValue: false,
  trimValues: false,
  cdataPropName: '#cdata', // CDATA is literal: must not be entity-decoded
  processEntities: false, // second line of defence; decodeText handles only the XML built-ins
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: 32, // CAP is 5 levels deep
});

function parseXml(xml: string): CapRoot {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) fail(DOC, `not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  return readRoot(PARSER.parse(xml) as unknown);
}

// ---- namespace-aware tree ----------------------------------------------------------------
// The parser's preserveOrder output is [{ tag: [...children], ':@': {attrs} }, { '#text': s },
// { '#cdata': [{ '#text': s }] }]. It becomes XNode: CAP-namespace elements only, by local name.

interface XNode {
  name: string;
  children: XNode[];
  /** Text and CDATA pieces in document order; text is entity-decoded on read, CDATA is not. */
  parts: { raw: string; cdata: boolean }[];
}
type CapRoot = XNode & { version: CapVersion };
type Scope = ReadonlyMap<string, string>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function elementKey(item: Record<string, unknown>): string | undefined {
  return Object.keys(item).find((k) => k !== ':@' && k !== '#text' && k !== '#cdata');
}

/** Adds this element's xmlns / xmlns:p declarations to the in-scope prefixes. */
function declare(scope: Scope, item: Record<string, unknown>, path: string): Scope {
  const attrs = item[':@'];
  if (!isRecord(attrs)) return scope;
  let next: Map<string, string> | undefined;
  for (const [k, v] of Object.entries(attrs)) {
    if (k !== 'xmlns' && !k.startsWith('xmlns:')) continue;
    next ??= new Map(scope);
    next.set(k === 'xmlns' ? '' : k.slice(6), decodeText(String(v), path).trim());
  }
  return next ?? scope;
}

function splitName(name: string, path: string): [prefix: string, local: string] {
  const parts = name.split(':');
  if (parts.length > 2 || parts.some((x) => x === '')) fail(path, `malformed element name <${name}>`);
  return parts.length === 2 ? [parts[0], parts[1]] : ['', parts[0]];
}

function readRoot(parsed: unknown): CapRoot {
  const items = (Array.isArray(parsed) ? parsed : []).filter(isRecord);
  const roots = items.filter((it) => elementKey(it) !== undefined);
  if (roots.length !== 1) fail(DOC, roots.length === 0 ? 'no root element' : 'more than one root element');
  const item = roots[0];
  const key = elementKey(item)!;
  const [prefix, local] = splitName(key, DOC);
  if (local !== 'alert') fail(DOC, `root element is <${key}>, expected <alert>`);
  const scope = declare(new Map(), item, 'alert');
  const ns = scope.get(prefix);
  if (ns === undefined || ns === '') {
    fail('alert', prefix !== '' ? `namespace prefix "${prefix}" is not declared` : 'no namespace; expected xmlns="urn:oasis:names:tc:emergency:cap:1.2" (or cap:1.1)');
  }
  if (!Object.hasOwn(CAP_NAMESPACES, ns)) fail('alert', `namespace "${ns}" is not CAP 1.2 or 1.1 (urn:oasis:names:tc:emergency:cap:1.2)`);
  const version = CAP_NAMESPACES[ns as keyof typeof CAP_NAMESPACES];
  return { ...readElement(item, key, local, scope, ns, 'alert'), version };
}

function readElement(item: Record<string, unknown>, key: string, name: string, scope: Scope, ns: string, path: string): XNode {
  const node: XNode = { name, children: [], parts: [] };
  const seen = new Map<string, number>();
  const content = item[key];
  for (const c of Array.isArray(content) ? content : []) {
    if (!isRecord(c)) continue;
    if ('#text' in c) {
      node.parts.push({ raw: String(c['#text']), cdata: false });
      continue;
    }
    if ('#cdata' in c) {
      const pieces = c['#cdata'];
      for (const x of Array.isArray(pieces) ? pieces : []) if (isRecord(x) && '#text' in x) node.parts.push({ raw: String(x['#text']), cdata: true });
      continue;
    }
    const childKey = elementKey(c);
    if (childKey === undefined) continue;
    const childScope = declare(scope, c, path);
    const [prefix, local] = splitName(childKey, path);
    const childNs = childScope.get(prefix);
    if (childNs === undefined && prefix !== '') fail(path, `namespace prefix "${prefix}" of <${childKey}> is not declared`);
    // Foreign elements (an XML signature, vendor extensions) are not CAP content: skipped.
    if (childNs !== ns) continue;
    const n = seen.get(local) ?? 0;
    seen.set(local, n + 1);
    node.children.push(readElement(c, childKey, local, childScope, ns, `${path}.${local}[${n}]`));
  }
  return node;
}

// Without a DTD only the five predefined entities and character references exist; decoding them
// here (once, never recursively) is why the parser's own entity processing can stay off.
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));|&[^\s;&]{0,20};?/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

function decodeText(raw: string, path: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(ENTITY, (m: string, named?: string, dec?: string, hex?: string) => {
    if (named !== undefined) return NAMED[named];
    if (dec !== undefined || hex !== undefined) {
      const cp = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
      if (!isXmlChar(cp)) fail(path, `character reference ${m} is not an XML character`);
      return String.fromCodePoint(cp);
    }
    return fail(path, `unknown entity reference ${m} (CAP has no DTD; only &amp; &lt; &gt; &quot; &apos; exist)`);
  });
}

// ---- element readers ---------------------------------------------------------------------

function children(node: XNode, name: string): XNode[] {
  return node.children.filter((c) => c.name === name);
}

function leafText(node: XNode, path: string): string {
  if (node.children.length > 0) fail(path, `expected text, found element <${node.children[0].name}>`);
  return node.parts
    .map((x) => (x.cdata ? x.raw : decodeText(x.raw, path)))
    .join('')
    .trim();
}

/** Optional singleton; an empty element counts as absent. */
function opt(node: XNode, name: string, base: string): string | undefined {
  const found = children(node, name);
  const path = `${base}.${name}`;
  if (found.length > 1) fail(path, `appears ${found.length} times; at most once allowed`);
  if (found.length === 0) return undefined;
  const t = leafText(found[0], path);
  return t === '' ? undefined : t;
}

function req(node: XNode, name: string, base: string): string {
  const v = opt(node, name, base);
  if (v === undefined) fail(`${base}.${name}`, children(node, name).length > 0 ? 'must not be empty' : 'required element is missing');
  return v;
}

/** Repeated leaf elements with their indexed paths. */
function texts(node: XNode, name: string, base: string): { text: string; path: string }[] {
  return children(node, name).map((c, i) => {
    const path = `${base}.${name}[${i}]`;
    return { text: leafText(c, path), path };
  });
}

function oneOf<T extends string>(value: string, allowed: readonly T[], path: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  return fail(path, `expected one of ${allowed.join('|')}, got "${value}"`);
}

// ---- value checks ------------------------------------------------------------------------

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-])(\d{2}):(\d{2})$/;

/**
 * Milliseconds since the epoch of a CAP date-time (`2026-11-03T14:00:00+07:00`), or undefined if
 * it is not one. No fractional seconds and an explicit offset; "-00:00" is UTC; "Z" is not CAP.
 */
export function capTimeMs(s: string): number | undefined {
  const m = DATE_TIME.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se, sign, oh, om] = [m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9]];
  const n = (x: string): number => Number(x);
  if (n(mo) < 1 || n(mo) > 12 || n(h) > 23 || n(mi) > 59 || n(se) > 59 || n(oh) > 14 || n(om) > 59) return undefined;
  const local = Date.UTC(n(y), n(mo) - 1, n(d), n(h), n(mi), n(se));
  if (new Date(local).getUTCDate() !== n(d)) return undefined; // 2026-02-30 rolls over
  const offsetMs = (sign === '-' ? -1 : 1) * (n(oh) * 60 + n(om)) * 60_000;
  return local - offsetMs;
}

function dateTime(value: string | undefined, path: string): string | undefined {
  if (value !== undefined && capTimeMs(value) === undefined) {
    fail(path, `expected a date-time like 2026-11-03T14:00:00+07:00, got ${value}`);
  }
  return value;
}

function token(value: string, path: string): string {
  if (/[\s,<&]/.test(value)) fail(path, `must not contain spaces, commas, "<" or "&", got "${value}"`);
  return value;
}

function decimalNumber(value: string | undefined, path: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/.test(value)) fail(path, `expected a decimal number, got "${value}"`);
  return Number(value);
}

/** Space-separated list where "quoted entries" may contain spaces (addresses, incidents). */
function spacedList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const out: string[] = [];
  for (const m of value.matchAll(/"([^"]*)"|(\S+)/g)) {
    const item = (m[1] ?? m[2]).trim();
    if (item !== '') out.push(item);
  }
  return out;
}

function references(value: string | undefined, path: string): CapReference[] {
  if (value === undefined) return [];
  return value
    .split(/\s+/)
    .filter(Boolean)
    .map((triple, i) => {
      const parts = triple.split(',');
      if (parts.length !== 3 || parts.some((p) => p === '')) {
        fail(path, `reference ${i + 1} "${triple}" is not "sender,identifier,sent"`);
      }
      const [sender, identifier, sent] = parts;
      if (/[<&]/.test(sender + identifier)) fail(path, `reference ${i + 1} "${triple}" contains "<" or "&"`);
      dateTime(sent, `${path} (reference ${i + 1})`);
      return { sender, identifier, sent };
    });
}

// ---- structure ---------------------------------------------------------------------------

function readAlert(root: CapRoot): CapAlert {
  const p = 'alert';
  const scope = oneOf(req(root, 'scope', p), CAP_SCOPE, `${p}.scope`);
  const alert: CapAlert = {
    version: root.version,
    identifier: token(req(root, 'identifier', p), `${p}.identifier`),
    sender: token(req(root, 'sender', p), `${p}.sender`),
    sent: dateTime(req(root, 'sent', p), `${p}.sent`)!,
    status: oneOf(req(root, 'status', p), CAP_STATUS, `${p}.status`),
    msgType: oneOf(req(root, 'msgType', p), CAP_MSG_TYPE, `${p}.msgType`),
    scope,
    code: texts(root, 'code', p)
      .map((c) => c.text)
      .filter((c) => c !== ''),
    references: references(opt(root, 'references', p), `${p}.references`),
    info: children(root, 'info').map((n, i) => readInfo(n, `${p}.info[${i}]`)),
  };
  const source = opt(root, 'source', p);
  const restriction = opt(root, 'restriction', p);
  const addresses = spacedList(opt(root, 'addresses', p));
  const note = opt(root, 'note', p);
  const incidents = spacedList(opt(root, 'incidents', p));
  if (scope === 'Restricted' && restriction === undefined) fail(`${p}.restriction`, 'required when scope is Restricted');
  if (scope === 'Private' && (addresses === undefined || addresses.length === 0)) fail(`${p}.addresses`, 'required when scope is Private');
  if (source !== undefined) alert.source = source;
  if (restriction !== undefined) alert.restriction = restriction;
  if (addresses !== undefined) alert.addresses = addresses;
  if (note !== undefined) alert.note = note;
  if (incidents !== undefined) alert.incidents = incidents;
  return alert;
}

function readInfo(node: XNode, p: string): CapInfo {
  const language = opt(node, 'language', p) ?? 'en-US';
  if (!/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(language)) fail(`${p}.language`, `expected a language tag like vi-VN, got "${language}"`);
  const category = texts(node, 'category', p).map((c) => oneOf(c.text, CAP_CATEGORY, c.path));
  if (category.length === 0) fail(`${p}.category`, 'at least one category is required');
  const certainty = req(node, 'certainty', p);
  const info: CapInfo = {
    language,
    category,
    event: req(node, 'event', p),
    responseType: texts(node, 'responseType', p).map((c) => oneOf(c.text, CAP_RESPONSE_TYPE, c.path)),
    urgency: oneOf(req(node, 'urgency', p), CAP_URGENCY, `${p}.urgency`),
    severity: oneOf(req(node, 'severity', p), CAP_SEVERITY, `${p}.severity`),
    // "Very Likely" is the CAP 1.0 value that 1.1 deprecated; read it as Likely, which replaced it.
    certainty: certainty === 'Very Likely' ? 'Likely' : oneOf(certainty, CAP_CERTAINTY, `${p}.certainty`),
    eventCode: pairs(node, 'eventCode', p),
    parameter: pairs(node, 'parameter', p),
    resource: children(node, 'resource').map((n, i) => readResource(n, `${p}.resource[${i}]`)),
    area: children(node, 'area').map((n, i) => readArea(n, `${p}.area[${i}]`)),
  };
  for (const k of ['effective', 'onset', 'expires'] as const) {
    const v = dateTime(opt(node, k, p), `${p}.${k}`);
    if (v !== undefined) info[k] = v;
  }
  for (const k of ['audience', 'senderName', 'headline', 'description', 'instruction', 'web', 'contact'] as const) {
    const v = opt(node, k, p);
    if (v !== undefined) info[k] = v;
  }
  return info;
}

function pairs(node: XNode, name: string, base: string): CapValuePair[] {
  return children(node, name).map((n, i) => {
    const p = `${base}.${name}[${i}]`;
    const values = children(n, 'value');
    if (values.length !== 1) fail(`${p}.value`, values.length === 0 ? 'required element is missing' : 'appears more than once');
    return { valueName: req(n, 'valueName', p), value: leafText(values[0], `${p}.value`) };
  });
}

function readResource(node: XNode, p: string): CapResource {
  const mimeType = req(node, 'mimeType', p);
  if (!/^[^\s/;]+\/[^\s/;]+(\s*;.*)?$/.test(mimeType)) fail(`${p}.mimeType`, `expected a MIME type like audio/mpeg, got "${mimeType}"`);
  const r: CapResource = { resourceDesc: req(node, 'resourceDesc', p), mimeType };
  const size = opt(node, 'size', p);
  if (size !== undefined) {
    if (!/^\d{1,15}$/.test(size)) fail(`${p}.size`, `expected a whole number of bytes, got "${size}"`);
    r.size = Number(size);
  }
  const uri = opt(node, 'uri', p);
  if (uri !== undefined) r.uri = uri;
  const deref = opt(node, 'derefUri', p);
  if (deref !== undefined) {
    const b64 = deref.replace(/\s+/g, '');
    if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) fail(`${p}.derefUri`, 'expected base64 content');
    r.derefUri = b64;
  }
  const digest = opt(node, 'digest', p);
  if (digest !== undefined) {
    if (!/^[0-9a-fA-F]{40}$/.test(digest)) fail(`${p}.digest`, `expected a SHA-1 digest (40 hex digits), got "${digest}"`);
    r.digest = digest.toLowerCase();
  }
  return r;
}

function readArea(node: XNode, p: string): CapArea {
  const area: CapArea = {
    areaDesc: req(node, 'areaDesc', p),
    polygon: texts(node, 'polygon', p).map(({ text, path }) => {
      const r = parsePolygon(text);
      return r.ok ? r.value : fail(path, r.reason);
    }),
    circle: texts(node, 'circle', p).map(({ text, path }) => {
      const r = parseCircle(text);
      return r.ok ? r.value : fail(path, r.reason);
    }),
    geocode: pairs(node, 'geocode', p),
  };
  const altitude = decimalNumber(opt(node, 'altitude', p), `${p}.altitude`);
  const ceiling = decimalNumber(opt(node, 'ceiling', p), `${p}.ceiling`);
  if (ceiling !== undefined && altitude === undefined) fail(`${p}.ceiling`, 'ceiling may only be used with altitude');
  if (altitude !== undefined) area.altitude = altitude;
  if (ceiling !== undefined) area.ceiling = ceiling;
  return area;
}
