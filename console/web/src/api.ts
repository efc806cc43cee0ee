// Fetch wrapper: JSON in and out, the CSRF token on every state change, errors as ApiFailure.
import type { ApiError } from '../../shared/api';

let csrf = '';
export const setCsrf = (token: string) => {
  csrf = token;
};

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(body.error);
  }
}

/** Called when the server says the session is gone (idle timeout, account changed). */
let onUnauthorised: () => void = () => undefined;
export const whenUnauthorised = (fn: () => void) => {
  onUnauthorised = fn;
};

async function call<T>(method: string, path: string, body?: unknown, raw?: Blob): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  let payload: BodyInit | undefined;
  if (raw) {
    headers['content-type'] = raw.type && /^(audio|video)\//.test(raw.type) ? raw.type.split(';')[0]! : 'application/octet-stream';
    payload = raw;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { error: text.slice(0, 200) || res.statusText };
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/login') onUnauthorised();
    throw new ApiFailure(res.status, (json as ApiError) ?? { error: res.statusText });
  }
  return json as T;
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body?: unknown) => call<T>('POST', path, body ?? {}),
  put: <T>(path: string, body?: unknown) => call<T>('PUT', path, body ?? {}),
  upload: <T>(path: string, blob: Blob) => call<T>('POST', path, undefined, blob),
};
