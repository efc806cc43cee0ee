// The central database's schema, once, for both stores: SQLite (embedded default) and
// PostgreSQL. Tables are described here in a dialect-neutral form and rendered per dialect;
// every change after that is a numbered migration whose statements run on both. Each store
// applies the same plan (planMigration) in one transaction: SQLite synchronously at open,
// PostgreSQL under an advisory lock, so two collectors starting at once migrate it once.

export type Dialect = 'sqlite' | 'postgres';

/**
 * `int` is INTEGER in SQLite (64-bit) and BIGINT in PostgreSQL (times are ms since 1970).
 * `rowid` is SQLite's implicit row id; PostgreSQL gets a real identity column of that name, so
 * `ORDER BY …, rowid` (insertion order) means the same on both.
 */
type ColumnType = 'text' | 'int' | 'rowid';

interface Column {
  name: string;
  type: ColumnType;
  nullable?: boolean;
  default?: number;
}

export interface Table {
  name: string;
  columns: Column[];
  primaryKey?: string[];
  unique?: string[][];
  /** A comment kept in the rendered SQL. */
  note?: string;
}

export interface Index {
  name: string;
  table: string;
  columns: string[];
}

const text = (name: string, nullable = false): Column => ({ name, type: 'text', nullable });
const int = (name: string, opts: { nullable?: boolean; default?: number } = {}): Column => ({ name, type: 'int', ...opts });

/** Version 2 (Loa 0.2): frozen. A later change is a migration below, never an edit here. */
const TABLES_V2: Table[] = [
  {
    name: 'acks',
    columns: [
      text('station'),
      text('db'),
      int('seq'),
      int('epoch'),
      text('state'),
      text('command_id', true),
      text('command_type', true),
      text('broadcast_id', true),
      text('item_id', true),
      text('priority', true),
      text('planned_at', true),
      text('started_at', true),
      text('ended_at', true),
      text('at'),
      text('reason', true),
      int('schedule_version', { nullable: true }),
      int('test', { default: 0 }),
      int('historical', { default: 0 }),
      int('received_at'),
      text('json'),
    ],
    unique: [['station', 'db', 'seq']],
  },
  {
    name: 'ack_conflicts',
    note: 'The same (station, db, seq) sent again with different content: kept, flagged, never merged.',
    columns: [text('station'), text('db'), int('seq'), int('received_at'), text('json'), text('stored_json')],
  },
  {
    name: 'media',
    note: 'Clips published retained on media/<sha256>: what `loa media gc` may clear.',
    columns: [text('sha256'), int('bytes'), int('published_at'), int('cleared_at', { nullable: true })],
    primaryKey: ['sha256'],
  },
  {
    name: 'station_state',
    columns: [text('station'), int('online'), int('epoch'), int('schedule_version', { nullable: true }), int('received_at'), text('json')],
    primaryKey: ['station'],
  },
  {
    name: 'state_log',
    note: 'Online/offline transitions, so a report can tell "unreachable" from "not confirmed".',
    columns: [{ name: 'rowid', type: 'rowid' }, text('station'), int('online'), int('at')],
  },
  {
    name: 'telemetry',
    columns: [text('station'), text('at'), int('received_at'), text('json')],
    primaryKey: ['station'],
  },
  {
    name: 'pushed_schedules',
    columns: [text('station'), int('version'), int('pushed_at'), text('items_json'), text('envelope')],
    primaryKey: ['station', 'version'],
  },
  {
    name: 'issuer_seq',
    columns: [text('issuer'), int('seq')],
    primaryKey: ['issuer'],
  },
  {
    name: 'broadcasts',
    columns: [
      text('id'),
      text('type'),
      text('status'),
      int('created_at'),
      int('sent_at', { nullable: true }),
      int('planned_at', { nullable: true }),
      text('title', true),
      text('priority'),
      int('test', { default: 0 }),
      text('stations'),
      text('envelope'),
    ],
    primaryKey: ['id'],
  },
];

/** Version 4: the console's tables (console/server/console-store.ts). */
const CONSOLE_TABLES: Table[] = [
  {
    name: 'console_users',
    note: 'Console accounts: scrypt password hash; the signing key bound to the account, sealed with its password.',
    columns: [
      text('name'),
      text('role'),
      text('stations'),
      text('groups_json'),
      text('key_id', true),
      text('sealed_key', true),
      text('password_hash'),
      int('disabled', { default: 0 }),
      int('created_at'),
      int('updated_at'),
    ],
    primaryKey: ['name'],
  },
  {
    name: 'console_audit',
    note: 'Every console action, refused ones included; append-only.',
    columns: [{ name: 'rowid', type: 'rowid' }, int('at'), text('account'), text('role'), text('ip'), text('action'), text('target', true), text('outcome'), text('detail', true)],
  },
];

const INDEXES_V2: Index[] = [
  { name: 'acks_broadcast', table: 'acks', columns: ['broadcast_id', 'station'] },
  { name: 'acks_received', table: 'acks', columns: ['received_at'] },
  { name: 'acks_command', table: 'acks', columns: ['command_id', 'station'] },
  { name: 'state_log_station', table: 'state_log', columns: ['station', 'at'] },
];

function columnSql(c: Column, d: Dialect): string | undefined {
  if (c.type === 'rowid') return d === 'postgres' ? `${c.name} BIGINT GENERATED BY DEFAULT AS IDENTITY` : undefined;
  // COLLATE "C": byte order, as SQLite's BINARY, so ORDER BY and BETWEEN on ids and ISO times agree.
  const type = c.type === 'text' ? (d === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT') : d === 'postgres' ? 'BIGINT' : 'INTEGER';
  return `  ${c.name} ${type}${c.nullable ? '' : ' NOT NULL'}${c.default !== undefined ? ` DEFAULT ${c.default}` : ''}`;
}

export function createTableSql(t: Table, d: Dialect): string {
  const lines = t.columns.map((c) => columnSql(c, d)).filter((l): l is string => l !== undefined);
  if (t.primaryKey) lines.push(`  PRIMARY KEY (${t.primaryKey.join(', ')})`);
  for (const u of t.unique ?? []) lines.push(`  UNIQUE (${u.join(', ')})`);
  return `${t.note ? `-- ${t.note}\n` : ''}CREATE TABLE IF NOT EXISTS ${t.name} (\n${lines.join(',\n')}\n)`;
}

export function createIndexSql(i: Index): string {
  return `CREATE INDEX IF NOT EXISTS ${i.name} ON ${i.table} (${i.columns.join(', ')})`;
}

/** What a migration may need to know about the database before it runs (read by each store). */
export interface SchemaFacts {
  /** Version 1 (user_version 0 with an `acks` table keyed without the store id): SQLite files from Loa 0.1. */
  legacyAcks: boolean;
}

export interface Migration {
  version: number;
  what: string;
  statements(d: Dialect, facts: SchemaFacts): string[];
}

const ACK_COLUMNS =
  'station, db, seq, epoch, state, command_id, command_type, broadcast_id, item_id, priority, planned_at, started_at, ended_at, at, reason, schedule_version, test, historical, received_at, json';

export const MIGRATIONS: Migration[] = [
  {
    version: 2,
    what: 'the tables of Loa 0.2; a version-1 acks table (keyed by station and seq) is copied under store id 0000000000000000',
    statements: (d, facts) => [
      ...(facts.legacyAcks ? ['ALTER TABLE acks RENAME TO acks_v1'] : []),
      ...TABLES_V2.map((t) => createTableSql(t, d)),
      ...INDEXES_V2.map(createIndexSql),
      ...(facts.legacyAcks ? [`INSERT INTO acks (${ACK_COLUMNS}) SELECT ${ACK_COLUMNS.replace(/\bdb\b/, "'0000000000000000'")} FROM acks_v1`, 'DROP TABLE acks_v1'] : []),
    ],
  },
  {
    version: 3,
    what: "acks by station and time received: `loa stations` finds each station's last ack without reading every row (10,000 stations)",
    statements: () => [createIndexSql({ name: 'acks_station_received', table: 'acks', columns: ['station', 'received_at'] })],
  },
  {
    version: 4,
    what: 'the web console: its accounts and its audit log; the live feed reads state and telemetry by time received',
    statements: (d) => [
      ...CONSOLE_TABLES.map((t) => createTableSql(t, d)),
      createIndexSql({ name: 'console_audit_at', table: 'console_audit', columns: ['at'] }),
      createIndexSql({ name: 'telemetry_received', table: 'telemetry', columns: ['received_at'] }),
      createIndexSql({ name: 'station_state_received', table: 'station_state', columns: ['received_at'] }),
    ],
  },
];

/** Schema version this code writes; a newer database is refused. */
export const CENTRAL_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The statements that bring a database at `from` to CENTRAL_SCHEMA_VERSION (run in one transaction). */
export function planMigration(from: number, d: Dialect, facts: SchemaFacts): string[] {
  if (from > CENTRAL_SCHEMA_VERSION) throw new Error(`central database schema ${from} is newer than this loa understands (${CENTRAL_SCHEMA_VERSION})`);
  // Version 0 is an empty database, or a version-1 SQLite file (it never set user_version).
  return MIGRATIONS.filter((m) => m.version > from).flatMap((m) => m.statements(d, facts));
}

/** Every table the stores use (tests and `loa db` compare them). */
export const TABLE_NAMES = [...TABLES_V2, ...CONSOLE_TABLES].map((t) => t.name);
