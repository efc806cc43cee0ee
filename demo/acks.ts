// What the central collector has written: the demo reads the collector's own SQLite database,
// so an ack counts only once it really arrived at the centre (not merely left a station).
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface AckRow {
  station: string;
  state: string;
  broadcast_id: string | null;
  command_id: string | null;
  command_type: string | null;
  item_id: string | null;
  reason: string | null;
  received_at: number;
}

export class AckView {
  private db: Database.Database | undefined;

  constructor(private readonly file: string) {}

  private open(): Database.Database | undefined {
    if (!this.db && existsSync(this.file)) {
      try {
        this.db = new Database(this.file, { readonly: true, fileMustExist: true });
        this.db.pragma('busy_timeout = 2000');
      } catch {
        this.db = undefined;
      }
    }
    return this.db;
  }

  all(): AckRow[] {
    const db = this.open();
    if (!db) return [];
    try {
      return db.prepare('SELECT station, state, broadcast_id, command_id, command_type, item_id, reason, received_at FROM acks').all() as AckRow[];
    } catch {
      return []; // the collector has not created its tables yet
    }
  }

  onlineStations(): Set<string> {
    const db = this.open();
    if (!db) return new Set();
    try {
      return new Set((db.prepare('SELECT station FROM station_state WHERE online = 1').all() as { station: string }[]).map((r) => r.station));
    } catch {
      return new Set();
    }
  }

  /** Stations with an ack in one of `states` for a broadcast (or command) id. */
  stations(id: string, states: readonly string[]): Set<string> {
    return new Set(
      this.all()
        .filter((a) => (a.broadcast_id === id || a.command_id === id) && states.includes(a.state))
        .map((a) => a.station),
    );
  }

  /** Same, for a schedule item (its occurrences have derived broadcast ids). */
  itemStations(itemId: string, states: readonly string[]): Set<string> {
    return new Set(
      this.all()
        .filter((a) => a.command_type === 'schedule' && a.item_id === itemId && states.includes(a.state))
        .map((a) => a.station),
    );
  }

  /** When the collector received the first ack in `states` from `station` for `id`. */
  receivedAt(id: string, station: string, states: readonly string[]): number | undefined {
    const rows = this.all().filter((a) => a.station === station && (a.broadcast_id === id || a.command_id === id) && states.includes(a.state));
    return rows.length ? Math.min(...rows.map((r) => r.received_at)) : undefined;
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
  }
}
