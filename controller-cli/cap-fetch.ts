// HTTP(S) for CAP: feeds, the documents they link to and audio resources. Only http and https,
// a size limit enforced while reading (not trusted from Content-Length), and one timeout for
// the whole exchange, body included.

export class CapFetchError extends Error {}

export interface Fetched {
  /** 200 (or another 2xx) with a body, or 304 without one. */
  status: number;
  body: Buffer;
  /** After redirects. */
  url: string;
  etag?: string;
  lastModified?: string;
  contentType?: string;
}

export interface FetchOptions {
  maxBytes: number;
  timeoutMs: number;
  etag?: string;
  lastModified?: string;
  accept?: string;
}

export const isHttpUrl = (s: string): boolean => /^https?:\/\//i.test(s);

export async function fetchLimited(url: string, o: FetchOptions): Promise<Fetched> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CapFetchError(`not a URL: ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CapFetchError(`only http and https are fetched, not ${parsed.protocol}`);
  const headers: Record<string, string> = { 'user-agent': 'loa-cap', accept: o.accept ?? '*/*' };
  if (o.etag) headers['if-none-match'] = o.etag;
  if (o.lastModified) headers['if-modified-since'] = o.lastModified;
  const signal = AbortSignal.timeout(o.timeoutMs);
  let res: Response;
  try {
    res = await fetch(parsed, { headers, signal, redirect: 'follow' });
  } catch (e) {
    throw new CapFetchError(signal.aborted ? `no answer within ${Math.round(o.timeoutMs / 1000)} s` : `cannot fetch: ${describe(e)}`);
  }
  const finalUrl = res.url || url;
  if (!/^https?:/i.test(finalUrl)) throw new CapFetchError(`redirected to ${finalUrl}, which is not http(s)`);
  const meta = {
    url: finalUrl,
    ...(res.headers.get('etag') ? { etag: res.headers.get('etag')! } : {}),
    ...(res.headers.get('last-modified') ? { lastModified: res.headers.get('last-modified')! } : {}),
    ...(res.headers.get('content-type') ? { contentType: res.headers.get('content-type')! } : {}),
  };
  if (res.status === 304) {
    await res.body?.cancel();
    return { status: 304, body: Buffer.alloc(0), ...meta };
  }
  if (res.status < 200 || res.status > 299) {
    await res.body?.cancel();
    throw new CapFetchError(`HTTP ${res.status} ${res.statusText}`.trim());
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > o.maxBytes) {
    await res.body?.cancel();
    throw new CapFetchError(`${declared} bytes is larger than ${o.maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body) {
        total += chunk.byteLength;
        if (total > o.maxBytes) {
          await res.body.cancel().catch(() => undefined);
          throw new CapFetchError(`larger than ${o.maxBytes} bytes`);
        }
        chunks.push(Buffer.from(chunk));
      }
    }
  } catch (e) {
    if (e instanceof CapFetchError) throw e;
    throw new CapFetchError(signal.aborted ? `no complete answer within ${Math.round(o.timeoutMs / 1000)} s` : `cannot read the answer: ${describe(e)}`);
  }
  return { status: res.status, body: Buffer.concat(chunks), ...meta };
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}
