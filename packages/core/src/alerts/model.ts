import type { Millis } from '../model';
import type { PageRequest } from '../pagination';
import { ALERT_EVENT_TYPES } from '../webhooks/model';

/** The alert rules; each alert is also a webhook event of the same name. */
export const ALERT_TYPES = ALERT_EVENT_TYPES;
export type AlertType = (typeof ALERT_TYPES)[number];

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * One severity per rule: a revoked key still presented is an incident; a new network, a spike or
 * low credits need a look; an expiry ahead or an idle key are housekeeping.
 */
export const ALERT_SEVERITY: Record<AlertType, AlertSeverity> = {
  'key.revoked_used': 'critical',
  'key.new_network': 'warning',
  'key.usage_spike': 'warning',
  'key.credits_low': 'warning',
  'key.expiring_soon': 'info',
  'key.unused': 'info',
};

export function isAlertType(value: string): value is AlertType {
  return (ALERT_TYPES as readonly string[]).includes(value);
}

/** A team's alert rules: each on or off, with its thresholds. */
export interface AlertSettings {
  'key.new_network': { enabled: boolean };
  'key.revoked_used': { enabled: boolean };
  'key.usage_spike': { enabled: boolean; factor: number; minCalls: number };
  'key.credits_low': { enabled: boolean; percent: number };
  'key.expiring_soon': { enabled: boolean; days: number };
  'key.unused': { enabled: boolean; days: number };
}

/** The defaults: every rule on. */
export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  'key.new_network': { enabled: true },
  'key.revoked_used': { enabled: true },
  'key.usage_spike': { enabled: true, factor: 5, minCalls: 100 },
  'key.credits_low': { enabled: true, percent: 10 },
  'key.expiring_soon': { enabled: true, days: 7 },
  'key.unused': { enabled: true, days: 90 },
};

/** The ranges a threshold may take (the route schema states them; the service checks them again). */
export const ALERT_SETTING_LIMITS = {
  factor: { min: 1, max: 1000 },
  minCalls: { min: 1, max: 1_000_000_000 },
  percent: { min: 1, max: 99 },
  expiringDays: { min: 1, max: 365 },
  unusedDays: { min: 1, max: 3650 },
} as const;

/** A network unused for this long counts as new again. */
export const NEW_NETWORK_WINDOW_MS = 30 * 24 * 3_600_000;
/** The usage spike rule compares with the hourly average of this many hours before. */
export const SPIKE_BASELINE_HOURS = 7 * 24;
/** A revoked, disabled or expired key raises at most one alert per this long. */
export const REVOKED_USED_EVERY_MS = 3_600_000;

/** Per key, at most this many networks and user agents are kept (the most recently seen). */
export const KEY_NETWORKS_KEPT = 50;
export const KEY_USER_AGENTS_KEPT = 50;

/** An alert as stored. `dedupeKey` is unique: the same condition never raises two alerts. */
export interface AlertRecord {
  id: string;
  teamId: string;
  keyId: string | null;
  type: AlertType;
  severity: AlertSeverity;
  message: string;
  details: Record<string, unknown>;
  createdAt: Millis;
  readAt: Millis | null;
  dedupeKey: string;
}

export interface AlertQuery {
  teamId: string;
  page: PageRequest;
  type: AlertType | null;
  /** true: only unread; false: only read; null: both. */
  unread: boolean | null;
  /** Only the alerts of this key (null: all). */
  keyId: string | null;
}

/** A network or user agent a key was used from, as kept. */
export interface SeenRecord {
  keyId: string;
  value: string;
  firstSeen: Millis;
  lastSeen: Millis;
  count: number;
}

/** What the rules need of a key, read at evaluation time. */
export interface KeyFacts {
  id: string;
  teamId: string;
  name: string;
  prefix: string;
  createdAt: Millis;
  lastUsedAt: Millis | null;
  expiresAt: Millis | null;
  revokedAt: Millis | null;
  enabled: boolean;
  /** null: unlimited. `remaining` counts what open leases still hold, as last reported. */
  credits: { limit: number; remaining: number; generation: number } | null;
}

/** A team's balance against the balance its owner last set; `remaining` counts open leases too. */
export interface TeamCreditFacts {
  teamId: string;
  limit: number;
  remaining: number;
  generation: number;
}

/** A key's verifications (valid and rejected) in hourly buckets around `hour`. */
export interface CallStats {
  keyId: string;
  /** In the hour that begins at `hour`. */
  current: number;
  /** In the hour before it. */
  previous: number;
  /** In the `SPIKE_BASELINE_HOURS` before `hour`. */
  baseline: number;
}

/**
 * Alerts, their rules' settings, and what keys were seen from. `insert` is guarded by the unique
 * dedupe key, so two instances evaluating the same condition store one alert.
 */
export interface AlertRepository {
  /** Inserts the alert unless one with its dedupe key exists; returns whether it was inserted. */
  insert(alert: AlertRecord): Promise<boolean>;
  /** Newest first (createdAt, then id, descending); `limit + 1` rows in the cursor's direction. */
  list(query: AlertQuery): Promise<AlertRecord[]>;
  count(query: Omit<AlertQuery, 'page'>): Promise<number>;
  find(teamId: string, id: string): Promise<AlertRecord | undefined>;
  /** Sets `readAt` only if the alert is unread; returns whether it did. */
  markRead(teamId: string, id: string, at: Millis): Promise<boolean>;
  /** Marks every unread alert of the team read; returns how many. */
  markAllRead(teamId: string, at: Millis): Promise<number>;
  /** Which of these dedupe keys are taken. */
  existingDedupeKeys(keys: string[]): Promise<Set<string>>;
  /** The time of the newest alert of `type` per key, for those keys that have one at or after `since`. */
  latestOf(type: AlertType, keyIds: string[], since: Millis): Promise<Map<string, Millis>>;

  /** The team's stored settings, or undefined when it never saved any (the defaults apply). */
  settings(teamId: string): Promise<{ settings: AlertSettings; updatedAt: Millis } | undefined>;
  /** Stored settings of these teams; teams without any are absent. */
  settingsOf(teamIds: string[]): Promise<Map<string, AlertSettings>>;
  /** Replaces the team's settings. */
  putSettings(teamId: string, settings: AlertSettings, at: Millis): Promise<void>;

  /** Networks kept for these keys (any order). */
  networksOf(keyIds: string[]): Promise<SeenRecord[]>;
  /** User agents kept for these keys (any order). */
  userAgentsOf(keyIds: string[]): Promise<SeenRecord[]>;

  /** Keys by id (any team); purged keys are absent. */
  keyFacts(keyIds: string[]): Promise<KeyFacts[]>;
  /** Teams with a balance and a limit, by id. */
  teamCredits(teamIds: string[]): Promise<TeamCreditFacts[]>;
  /** Per key, calls in the hour beginning at `hour`, the one before, and the baseline before it. */
  callStats(keyIds: string[], hour: Millis): Promise<CallStats[]>;
  /** Per key, calls (valid and rejected) in the hour beginning at `hour`; keys without any are absent. */
  callsInHour(keyIds: string[], hour: Millis): Promise<Map<string, number>>;
  /**
   * Up to `limit` keys, by id after `afterId`, that are not revoked, enabled, and expire in
   * (now, now + days of their team] while their team's rule is on; `defaults` apply to teams
   * without settings.
   */
  expiringKeys(query: { now: Millis; afterId: string; limit: number; defaults: AlertSettings['key.expiring_soon'] }): Promise<KeyFacts[]>;
  /**
   * Up to `limit` active keys (not revoked, enabled, not expired), by id after `afterId`, last
   * used (or, never used, created) at least `days` of their team ago while their team's rule is on.
   */
  idleKeys(query: { now: Millis; afterId: string; limit: number; defaults: AlertSettings['key.unused'] }): Promise<KeyFacts[]>;
}
