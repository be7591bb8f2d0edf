import { networkOf } from '../alerts/network';
import type { Millis } from '../model';
import { createId, cryptoRandom } from '../random';

const HOUR = 3_600_000;
/** Per key and flush, at most this many networks and user agents are kept; further ones are only counted. */
export const SEEN_PER_FLUSH = 16;
/** Per key and flush, raw IP literals remembered with their network, so a repeat needs no parsing. */
const IPS_REMEMBERED = 64;

/** What the caller of verify saw of its own client (already validated: an IP literal, a string ≤ 512). */
export interface UsageContext {
  ip?: string;
  userAgent?: string;
}

/** Rejections of a known key that the usage batch counts by code. */
export type UsageRejectionCode = 'REVOKED' | 'INACTIVE' | 'EXPIRED' | 'INSUFFICIENT_SCOPES' | 'USAGE_EXCEEDED' | 'RATE_LIMITED';

/** How often, and from when to when, one network or user agent was seen. */
export interface SeenCount {
  firstSeen: Millis;
  lastSeen: Millis;
  count: number;
}

/** What callers of one key reported in one batch (only keys whose callers sent a context). */
export interface KeySeen {
  keyId: string;
  teamId: string;
  /** In the order first seen: /24 (IPv4) or /48 (IPv6) networks. */
  networks: Array<SeenCount & { network: string }>;
  userAgents: Array<SeenCount & { userAgent: string }>;
  /** Uses from networks (or with user agents) beyond the first `SEEN_PER_FLUSH` of the batch: counted, not kept. */
  droppedNetworks: number;
  droppedUserAgents: number;
}

/**
 * What one flush writes: per key, totals since the previous batch, and per hour for the series.
 * `id` (`ub_…`) names this batch and no other. The buffer writes a failed batch again, with the
 * same id and the same counts, until it is applied; newer counts go in a later batch.
 */
export interface UsageBatch {
  id: string;
  keys: Array<{ keyId: string; valid: number; lastUsedAt: Millis | null }>;
  hours: Array<{ keyId: string; teamId: string; hour: Millis; valid: number; rejected: number; creditsUsed: number }>;
  /** Networks and user agents seen per key; absent when no caller sent a context. */
  seen?: KeySeen[];
  /** Rejected answers of known keys by code, with the time of the last; absent when there were none. */
  rejections?: Array<{ keyId: string; teamId: string; code: UsageRejectionCode; count: number; lastAt: Millis }>;
}

export interface UsageSink {
  /**
   * Applies a batch in one transaction with atomic increments (`x = x + n`), never
   * read-modify-write; rows of keys purged meanwhile are skipped, not an error.
   * Each batch id is applied at most once: a batch whose id was applied before (its write
   * committed, but the reply was lost) writes nothing and resolves, so writing a batch again
   * after a failure is always safe. An id is remembered for at least a day.
   * A rejection says nothing of whether the batch was applied; only a resolve says it was.
   */
  write(batch: UsageBatch): Promise<void>;
}

export interface UsageBufferOptions {
  /** A fresh batch id per batch; `ub_` + 20 random base62 characters by default. */
  newId?: () => string;
}

interface HourCounts {
  keyId: string;
  teamId: string;
  hour: Millis;
  valid: number;
  rejected: number;
  creditsUsed: number;
}

/** Networks and user agents of one key in one flush, bounded by `SEEN_PER_FLUSH` each. */
interface PendingSeen {
  networks: Map<string, SeenCount>;
  /** Raw IP → its network's counts, or null when that network was dropped. */
  ips: Map<string, SeenCount | null>;
  userAgents: Map<string, SeenCount>;
  droppedNetworks: number;
  droppedUserAgents: number;
  // The last IP and user agent with their counts: a caller that repeats itself needs no lookup.
  lastIp: string | null;
  lastIpCounts: SeenCount | null;
  lastUserAgent: string | null;
  lastUserAgentCounts: SeenCount | null;
}

interface RejectionCount {
  code: UsageRejectionCode;
  count: number;
  lastAt: Millis;
}

/** What one key has pending: its valid uses, the latest, and its counts by hour (oldest first). */
interface KeyCounts {
  teamId: string;
  valid: number;
  lastUsedAt: Millis | null;
  hours: HourCounts[];
  /** Made at the first use with a context. */
  seen: PendingSeen | null;
  /** Made at the first rejection (a handful of codes: a list is enough). */
  rejections: RejectionCount[] | null;
}

function bump(counts: SeenCount, at: Millis): void {
  counts.count += 1;
  if (at > counts.lastSeen) counts.lastSeen = at;
  if (at < counts.firstSeen) counts.firstSeen = at;
}

/** Counts a use with a context: the key's last IP again costs no lookup, another known one a map lookup; a new one is parsed once per flush. */
function see(counts: KeyCounts, at: Millis, context: UsageContext): void {
  const { ip, userAgent } = context;
  if (ip === undefined && userAgent === undefined) return;
  let seen = counts.seen;
  if (seen === null) {
    seen = { networks: new Map(), ips: new Map(), userAgents: new Map(), droppedNetworks: 0, droppedUserAgents: 0, lastIp: null, lastIpCounts: null, lastUserAgent: null, lastUserAgentCounts: null };
    counts.seen = seen;
  }
  if (ip !== undefined) {
    let entry = ip === seen.lastIp ? seen.lastIpCounts : seen.ips.get(ip);
    if (entry === undefined) {
      const network = networkOf(ip);
      entry = seen.networks.get(network) ?? null;
      if (entry === null && seen.networks.size < SEEN_PER_FLUSH) {
        entry = { firstSeen: at, lastSeen: at, count: 0 };
        seen.networks.set(network, entry);
      }
      if (seen.ips.size < IPS_REMEMBERED) seen.ips.set(ip, entry);
    }
    seen.lastIp = ip;
    seen.lastIpCounts = entry;
    if (entry === null) seen.droppedNetworks += 1;
    else bump(entry, at);
  }
  if (userAgent !== undefined) {
    let entry = userAgent === seen.lastUserAgent ? seen.lastUserAgentCounts : (seen.userAgents.get(userAgent) ?? null);
    if (entry === null && userAgent !== seen.lastUserAgent && seen.userAgents.size < SEEN_PER_FLUSH) {
      entry = { firstSeen: at, lastSeen: at, count: 0 };
      seen.userAgents.set(userAgent, entry);
    }
    seen.lastUserAgent = userAgent;
    seen.lastUserAgentCounts = entry;
    if (entry === null) seen.droppedUserAgents += 1;
    else bump(entry, at);
  }
}

function reject(counts: KeyCounts, code: UsageRejectionCode, at: Millis): void {
  let list = counts.rejections;
  if (list === null) counts.rejections = list = [];
  for (const r of list) {
    if (r.code === code) {
      r.count += 1;
      if (at > r.lastAt) r.lastAt = at;
      return;
    }
  }
  list.push({ code, count: 1, lastAt: at });
}

/**
 * Counts verifications in memory and writes them in batches. Every recorded use is applied
 * exactly once: a flush takes the pending counts into a batch with a new id; a batch whose
 * write failed is kept as it was (same id, same counts) and written again, before any newer
 * counts, until the sink accepts it. As the sink applies an id at most once, a write that
 * failed after it committed is not counted twice.
 */
export function createUsageBuffer(sink: UsageSink, options: UsageBufferOptions = {}) {
  const newId = options.newId ?? (() => createId(cryptoRandom, 'ub'));
  // One map lookup per use, by the key id string the cached record holds (its hash is cached too).
  let pending = new Map<string, KeyCounts>();
  // The batch taken from `pending` and not yet known to be applied: being written, or failed.
  // Newer counts never join it (its id may already be applied); they wait in `pending`.
  let unwritten: UsageBatch | null = null;
  let flushing: Promise<void> | null = null;

  function hourOf(counts: KeyCounts, keyId: string, teamId: string, hour: Millis): HourCounts {
    const last = counts.hours[counts.hours.length - 1];
    if (last !== undefined && last.hour === hour) return last;
    const found = counts.hours.find((h) => h.hour === hour);
    if (found) return found;
    const created: HourCounts = { keyId, teamId, hour, valid: 0, rejected: 0, creditsUsed: 0 };
    counts.hours.push(created);
    counts.hours.sort((a, b) => a.hour - b.hour);
    return created;
  }

  function take(): UsageBatch {
    const batch = pending;
    pending = new Map();
    const keys: UsageBatch['keys'] = [];
    const hours: UsageBatch['hours'] = [];
    const seen: KeySeen[] = [];
    const rejections: NonNullable<UsageBatch['rejections']> = [];
    for (const [keyId, counts] of batch) {
      if (counts.valid > 0) keys.push({ keyId, valid: counts.valid, lastUsedAt: counts.lastUsedAt });
      hours.push(...counts.hours);
      const s = counts.seen;
      if (s) {
        seen.push({
          keyId,
          teamId: counts.teamId,
          networks: [...s.networks].map(([network, c]) => ({ network, ...c })),
          userAgents: [...s.userAgents].map(([userAgent, c]) => ({ userAgent, ...c })),
          droppedNetworks: s.droppedNetworks,
          droppedUserAgents: s.droppedUserAgents,
        });
      }
      for (const r of counts.rejections ?? []) rejections.push({ keyId, teamId: counts.teamId, code: r.code, count: r.count, lastAt: r.lastAt });
    }
    return { id: newId(), keys, hours, ...(seen.length > 0 ? { seen } : {}), ...(rejections.length > 0 ? { rejections } : {}) };
  }

  /** Writes the failed batch, if any, then one batch of what is pending; stops at the first failure. */
  async function flushOnce(): Promise<void> {
    if (unwritten) {
      await sink.write(unwritten);
      unwritten = null;
    }
    if (pending.size === 0) return;
    unwritten = take();
    await sink.write(unwritten);
    unwritten = null;
  }

  return {
    /**
     * Counts one answer for a known key: a rejection by its `code`, and the caller's `context`
     * (its network and user agent, bounded per flush). Without a context this allocates nothing
     * beyond the key's first use in a flush.
     */
    record(keyId: string, teamId: string, at: Millis, outcome: { valid: boolean; creditsUsed: number; code?: UsageRejectionCode }, context?: UsageContext): void {
      let counts = pending.get(keyId);
      if (!counts) pending.set(keyId, (counts = { teamId, valid: 0, lastUsedAt: null, hours: [], seen: null, rejections: null }));
      if (context !== undefined) see(counts, at, context);
      const h = hourOf(counts, keyId, teamId, Math.floor(at / HOUR) * HOUR);
      if (outcome.valid) {
        counts.valid += 1;
        if (counts.lastUsedAt === null || at > counts.lastUsedAt) counts.lastUsedAt = at;
        h.valid += 1;
        h.creditsUsed += outcome.creditsUsed;
      } else {
        h.rejected += 1;
        if (outcome.code !== undefined) reject(counts, outcome.code, at);
      }
    },

    /**
     * Writes everything counted so far (a batch that failed before goes first, unchanged);
     * concurrent callers take turns, one write at a time. Rejects if a write fails: its batch
     * is kept and written again by the next flush.
     */
    async flush(): Promise<void> {
      while (flushing) await flushing.catch(() => {});
      flushing = flushOnce();
      try {
        await flushing;
      } finally {
        flushing = null;
      }
    },

    /**
     * Forgets the pending counts of a key that no longer exists. A batch already taken is left as
     * it was (its id may be applied); the sink skips the rows of purged keys.
     */
    discard(keyId: string): void {
      pending.delete(keyId);
    },

    /** How many (key, hour) counts wait to be written, in the failed batch and pending. */
    get pending(): number {
      let n = unwritten?.hours.length ?? 0;
      for (const counts of pending.values()) n += counts.hours.length;
      return n;
    },
  };
}

export type UsageBuffer = ReturnType<typeof createUsageBuffer>;
