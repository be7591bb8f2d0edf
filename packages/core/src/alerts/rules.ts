import { keyStatus, type Millis } from '../model';
import type { KeySeen } from '../verify/usage-buffer';
import { NEW_NETWORK_WINDOW_MS, SPIKE_BASELINE_HOURS, type AlertSettings, type CallStats, type KeyFacts, type SeenRecord } from './model';

const HOUR = 3_600_000;

/** A network a key was used from that it had not used in the window before. */
export interface NewNetwork {
  keyId: string;
  teamId: string;
  network: string;
  /** When the batch first saw it. */
  at: Millis;
  /** When the key was last seen on it before (older than the window), or null: never. */
  previousLastSeen: Millis | null;
}

/**
 * The networks of a batch that are new to their key: not among the networks it was used from
 * in the `NEW_NETWORK_WINDOW_MS` before. `stored` is what was kept before the batch was written.
 * A key's very first network (no network kept at all) is its baseline, never new.
 */
export function findNewNetworks(seen: KeySeen[], stored: SeenRecord[]): NewNetwork[] {
  const byKey = new Map<string, Map<string, Millis>>();
  for (const s of stored) {
    let networks = byKey.get(s.keyId);
    if (!networks) byKey.set(s.keyId, (networks = new Map()));
    networks.set(s.value, s.lastSeen);
  }
  const found: NewNetwork[] = [];
  for (const s of seen) {
    const known = byKey.get(s.keyId);
    s.networks.forEach((n, i) => {
      if (!known) {
        // The first use from any network: the one seen first is the baseline; others in the same batch are new.
        if (i > 0) found.push({ keyId: s.keyId, teamId: s.teamId, network: n.network, at: n.firstSeen, previousLastSeen: null });
        return;
      }
      const lastSeen = known.get(n.network);
      if (lastSeen === undefined || lastSeen < n.firstSeen - NEW_NETWORK_WINDOW_MS) {
        found.push({ keyId: s.keyId, teamId: s.teamId, network: n.network, at: n.firstSeen, previousLastSeen: lastSeen ?? null });
      }
    });
  }
  return found;
}

/** A key's calls in the last hour against its hourly average before. */
export interface Spike {
  /** Calls in the 60 minutes before `now` (the previous hour's share prorated). */
  calls: number;
  /** Calls per hour, on average, over the full hours of the last 7 days the key existed. */
  average: number;
  baselineHours: number;
}

/**
 * Whether a key's calls (valid and rejected) in the last hour exceed `factor` × its hourly average
 * of the past 7 days and reach `minCalls`. The average covers only the hours the key existed, so
 * a young key with steady traffic is not a spike; a key with no full hour behind it has no baseline.
 */
export function spikeOf(stats: CallStats, key: Pick<KeyFacts, 'createdAt'>, now: Millis, rule: AlertSettings['key.usage_spike']): Spike | null {
  const hour = Math.floor(now / HOUR) * HOUR;
  const intoHour = (now - hour) / HOUR;
  const calls = Math.round(stats.current + stats.previous * (1 - intoHour));
  const since = Math.max(hour - SPIKE_BASELINE_HOURS * HOUR, Math.floor(key.createdAt / HOUR) * HOUR);
  const baselineHours = Math.round((hour - since) / HOUR);
  if (baselineHours < 1) return null;
  const average = stats.baseline / baselineHours;
  if (calls < rule.minCalls || calls <= rule.factor * average) return null;
  return { calls, average, baselineHours };
}

/** Whether `remaining` is under `percent` % of `limit` (a limit of 0 never is). */
export function isCreditsLow(remaining: number, limit: number, percent: number): boolean {
  return limit > 0 && remaining < (limit * percent) / 100;
}

/** Whether the key would verify at `now`, but for scopes, limits and credits. */
export function isActive(key: Pick<KeyFacts, 'revokedAt' | 'enabled' | 'expiresAt'>, now: Millis): boolean {
  return keyStatus(key, now) === 'active';
}

/** The dedupe keys: what makes two alerts the same alert (unique in the database). */
export const dedupeKeys = {
  newNetwork: (n: NewNetwork) => `key.new_network:${n.keyId}:${n.network}:${n.previousLastSeen ?? 'never'}`,
  /** Per key per clock hour: with the check for one in the last 60 minutes, at most one per hour. */
  revokedUsed: (keyId: string, now: Millis) => `key.revoked_used:${keyId}:${Math.floor(now / HOUR)}`,
  usageSpike: (keyId: string, now: Millis) => `key.usage_spike:${keyId}:${Math.floor(now / HOUR)}`,
  /** Once per credits generation: a new limit, a new balance or a refill re-arms it. */
  keyCreditsLow: (keyId: string, generation: number) => `key.credits_low:key:${keyId}:${generation}`,
  teamCreditsLow: (teamId: string, generation: number) => `key.credits_low:team:${teamId}:${generation}`,
  /** Once per key and expiry: moving the expiry re-arms it. */
  expiringSoon: (keyId: string, expiresAt: Millis) => `key.expiring_soon:${keyId}:${expiresAt}`,
  /** Once per key and idle stretch: a use re-arms it. */
  unused: (keyId: string, lastUsedAt: Millis | null) => `key.unused:${keyId}:${lastUsedAt ?? 'never'}`,
};
