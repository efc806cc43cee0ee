// Ids travel into MQTT topics, file names and SQL; one pattern keeps all three safe.
export const ID_PATTERN = /^[a-z0-9-]{1,64}$/;
export const SHA256_PATTERN = /^[a-f0-9]{64}$/;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

export function assertId(value: unknown, what = 'id'): string {
  if (!isId(value)) {
    throw new Error(`invalid ${what} ${JSON.stringify(value)}: expected [a-z0-9-]{1,64}`);
  }
  return value;
}

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256_PATTERN.test(value);
}
