// The console's HTTP API, as types only: the server (console/server) and the page
// (console/web) both import this file, so a field cannot mean two things.

export const ROLES = ['ward', 'operator', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a role may do; the server checks each request against this, the page only hides buttons. */
export const ACTIONS = ['view', 'announce', 'schedule', 'live', 'alert.draft', 'alert.approve', 'alert.cancel', 'audit.all', 'users'] as const;
export type Action = (typeof ACTIONS)[number];

export const ROLE_ACTIONS: Record<Role, readonly Action[]> = {
  // Ward staff: their own stations only (the scope is required for this role).
  ward: ['view', 'announce', 'schedule', 'live'],
  // Operations centre: every station (or a scope), prepares alerts but never approves them.
  operator: ['view', 'announce', 'schedule', 'live', 'alert.draft', 'alert.cancel', 'audit.all'],
  // Officials who may put the second signature on a live alert.
  approver: ['view', 'announce', 'schedule', 'live', 'alert.draft', 'alert.approve', 'alert.cancel', 'audit.all'],
  // Accounts and the audit log; signs nothing.
  admin: ['view', 'audit.all', 'users'],
};

export interface SessionInfo {
  user: { name: string; role: Role; key: string | null; stations: string[]; groups: string[]; actions: Action[] };
  /** Echo in the `x-csrf-token` header of every state-changing request. */
  csrf: string;
  /** Server clock, so the page judges "silent too long" on the server's time. */
  serverNow: number;
  idleTimeoutSec: number;
  fleet: FleetView;
}

export interface FleetView {
  timezone: string;
  alertQuorum: number;
  testAlerts: { maxDurationSec: number; maxVolume: number };
  groups: { id: string; name: string }[];
  /** Only the stations in the user's scope. */
  stations: { id: string; name: string; groups: string[]; zones: { id: string; name: string }[]; location: { lat: number; lon: number } | null }[];
}

export interface NowPlaying {
  zone: string;
  title: string | null;
  priority: string;
  broadcastId: string | null;
  since: string;
}

export interface StationView {
  id: string;
  online: boolean | null;
  /** When the station last went online or offline (from the state history). */
  since: number | null;
  /** Last state, telemetry or ack received, in server milliseconds. */
  lastSeen: number | null;
  /** Expected telemetry period: silent past it (plus slack) means something is wrong. */
  telemetrySec: number | null;
  nowPlaying: NowPlaying[];
  scheduleDesired: number | null;
  scheduleApplied: number | null;
  clockOffsetMs: number | null;
  diskFreeBytes: number | null;
  outboxDepth: number | null;
  lastError: string | null;
  storeFault: string | null;
  storeReset: string | null;
  ackConflicts: number;
  stopped: boolean;
}

export type DeliveryState = 'none' | 'received' | 'scheduled' | 'applied' | 'started' | 'completed' | 'failed' | 'rejected' | 'missed' | 'preempted' | 'cancelled';

export interface StationProgress {
  station: string;
  state: DeliveryState;
  at: string | null;
  reason: string | null;
  /** Every ack state in arrival order. */
  steps: { state: string; at: string; reason: string | null }[];
}

export interface BroadcastSummary {
  id: string;
  type: string;
  status: string;
  title: string;
  priority: string;
  test: boolean;
  createdAt: number;
  plannedAt: number | null;
  stations: string[];
  /** Stations that started or completed it (the CLI's N/M). */
  confirmed: number;
  failed: number;
  by: string | null;
}

export interface BroadcastDetail extends BroadcastSummary {
  progress: StationProgress[];
  audio: { sha256: string; tts: string | null } | { stream: string } | null;
}

export interface MediaInfo {
  sha256: string;
  bytes: number;
  durationSec: number;
  codec: string;
  /** Speech made on the server: what it says. */
  text: string | null;
}

export interface AnnounceRequest {
  media: string;
  title: string;
  to: string[];
  at?: string;
  priority: 'normal' | 'priority';
  chime: boolean;
  repeat: number;
  zones?: string[];
}

export interface AuditEntry {
  id: number;
  at: number;
  user: string;
  role: string;
  ip: string;
  action: string;
  target: string | null;
  outcome: 'ok' | 'refused' | 'failed';
  detail: string | null;
}

/** Server-sent events on /api/events. */
export type LiveEvent =
  | { kind: 'station'; station: StationView }
  | { kind: 'ack'; broadcastId: string; station: string; state: string; at: string; reason: string | null }
  | { kind: 'broadcast'; broadcast: BroadcastSummary };

export interface ApiError {
  error: string;
  /** Where in the input (a key path such as items[2].cron, or a form field). */
  path?: string;
  line?: number;
}

/** A draft as the alerts pages show it (GET /api/alerts/drafts[/:id]). */
export interface DraftView {
  id: string;
  kind: 'alert' | 'cancel';
  createdAt: string;
  drafter: string | null;
  signers: string[];
  needed: number;
  test: boolean;
  title: string;
  media: string | null;
  text: string | null;
  stations: string[];
  expiresAt: string;
  cancels: string | null;
  reason: string | null;
  origin: string;
}
