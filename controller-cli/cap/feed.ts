// What a CAP source serves: one CAP document, or an index of them. Pure.
// Index forms read: Atom (`<feed><entry><link href=…>`, as most national CAP feeds publish,
// the link with a CAP type preferred, or `<content src=…>`) and RSS 2.0 (`<rss><channel><item>
// <link>…</link>`). CAP embedded inside an entry's `<content>` is not read: only links are.
// The same hostile-input checks as parseCap run first (size, UTF-8, no DTD, no entities).
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { checkXmlInput } from './parse.js';

export interface FeedEntry {
  /** As written in the index; resolve it against the index's own address. */
  href: string;
  /** Atom `<id>` or RSS `<guid>`, when given. */
  id?: string;
  /** Atom `<updated>` or RSS `<pubDate>`: a changed value means the entry changed. */
  updated?: string;
}

export type SourceDocument = { kind: 'cap' } | { kind: 'index'; format: 'atom' | 'rss'; entries: FeedEntry[] } | { kind: 'unknown'; reason: string };

export const DEFAULT_MAX_INDEX_BYTES = 4 * 1024 * 1024;
/** A feed with more entries than this is read up to here: the newest come first in every common feed. */
export const MAX_INDEX_ENTRIES = 200;

const PARSER = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  maxNestedTags: 64,
  isArray: (name) => ['entry', 'link', 'item', 'channel', 'content'].includes(name),
});

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The XML built-in entities and character references, once; anything else stays as written. */
function decode(s: string): string {
  return s.replace(/&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/g, (m, named?: string, dec?: string, hex?: string) => {
    if (named !== undefined) return NAMED[named]!;
    const cp = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return decode(v).trim() || undefined;
  if (isRecord(v) && typeof v['#text'] === 'string') return decode(v['#text']).trim() || undefined;
  return undefined;
}

const attr = (v: unknown, name: string): string | undefined => (isRecord(v) && typeof v[`@${name}`] === 'string' ? decode(v[`@${name}`] as string).trim() || undefined : undefined);

/** The root element's local name, without parsing the document. */
function rootName(xml: string): string | undefined {
  const body = xml.replace(/^\s*(<\?[\s\S]*?\?>\s*|<!--[\s\S]*?-->\s*)*/, '');
  return /^<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)/.exec(body)?.[1];
}

/** Prefer a link that says it is CAP, then the alternate link, then any link with an href. */
function atomHref(entry: Record<string, unknown>): string | undefined {
  const links = list(entry.link).filter((l) => attr(l, 'href') !== undefined);
  const capType = (l: unknown) => /cap|common-alerting/i.test(attr(l, 'type') ?? '');
  const rel = (l: unknown) => attr(l, 'rel') ?? 'alternate';
  const chosen = links.find(capType) ?? links.find((l) => rel(l) === 'alternate') ?? links[0];
  if (chosen) return attr(chosen, 'href');
  return list(entry.content)
    .map((c) => attr(c, 'src'))
    .find((s) => s !== undefined);
}

/** Is this a CAP document, an Atom or RSS index of CAP documents, or neither? */
export function classifySource(input: Buffer | string, maxBytes = DEFAULT_MAX_INDEX_BYTES): SourceDocument {
  const checked = checkXmlInput(input, maxBytes);
  if (!checked.ok) return { kind: 'unknown', reason: checked.reason };
  const root = rootName(checked.text);
  if (root === 'alert') return { kind: 'cap' };
  if (root !== 'feed' && root !== 'rss')
    return { kind: 'unknown', reason: root ? `root element <${root}> is neither a CAP <alert> nor an Atom <feed> or RSS <rss> index` : 'no root element' };
  const valid = XMLValidator.validate(checked.text);
  if (valid !== true) return { kind: 'unknown', reason: `not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})` };
  let doc: unknown;
  try {
    doc = PARSER.parse(checked.text);
  } catch (e) {
    return { kind: 'unknown', reason: `not a readable XML document: ${(e as Error).message}` };
  }
  if (!isRecord(doc)) return { kind: 'unknown', reason: 'no root element' };
  if (root === 'feed') {
    const feed = doc.feed;
    const entries = (isRecord(feed) ? list(feed.entry) : []).filter(isRecord).slice(0, MAX_INDEX_ENTRIES);
    return {
      kind: 'index',
      format: 'atom',
      entries: entries.flatMap((e) => {
        const href = atomHref(e);
        if (!href) return [];
        const out: FeedEntry = { href };
        const id = text(e.id);
        const updated = text(e.updated) ?? text(e.published);
        if (id) out.id = id;
        if (updated) out.updated = updated;
        return [out];
      }),
    };
  }
  const rss = doc.rss;
  const channel = isRecord(rss) ? list(rss.channel).find(isRecord) : undefined;
  const items = (channel ? list(channel.item) : []).filter(isRecord).slice(0, MAX_INDEX_ENTRIES);
  return {
    kind: 'index',
    format: 'rss',
    entries: items.flatMap((it) => {
      const href = list(it.link)
        .map(text)
        .find((s) => s !== undefined);
      if (!href) return [];
      const out: FeedEntry = { href };
      const id = text(it.guid);
      const updated = text(it.pubDate);
      if (id) out.id = id;
      if (updated) out.updated = updated;
      return [out];
    }),
  };
}
