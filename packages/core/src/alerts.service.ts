import { requirePermission, type TeamAccess } from './access';
import { createAuditWriter } from './audit';
import type { Clock } from './clock';
import { notFound, validationError } from './errors';
import { keyStatus, type Millis, type Page } from './model';
import { buildPage, decodeCursor } from './pagination';
import type { Repositories, Store } from './ports';
import { createId, type Random } from './random';
import type { UsageBatch } from './verify/usage-buffer';
import {
  ALERT_SEVERITY,
  ALERT_SETTING_LIMITS,
  ALERT_TYPES,
  DEFAULT_ALERT_SETTINGS,
  REVOKED_USED_EVERY_MS,
  type AlertRecord,
  type AlertSettings,
  type AlertSeverity,
  type AlertType,
  type CallStats,
  type KeyFacts,
  type SeenRecord,
} from './alerts/model';
import { dedupeKeys, findNewNetworks, isActive, isCreditsLow, spikeOf, type NewNetwork } from './alerts/rules';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Keys per page of the sweep's queries. */
const SWEEP_PAGE = 500;
/** New networks waiting for evaluation, at most (only reached if evaluation falls far behind the flushes). */
const MAX_PENDING_NETWORKS = 10_000;
/** Alerts kept for another try after their store failed, at most (beyond: logged and dropped). */
const MAX_FAILED_ALERTS = 10_000;
/** Keys whose spike baseline is kept for the current hour, at most. */
const MAX_BASELINES = 100_000;

/** An alert as the API shows it. */
export interface AlertView {
  id: string;
  type: AlertType;
  severity: AlertSeverity;
  keyId: string | null;
  message: string;
  details: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

export interface AlertSettingsView {
  rules: AlertSettings;
  /** When the team last saved its settings; null: it never did, these are the defaults. */
  updatedAt: string | null;
}

/** `PUT /alert-settings`: each rule named is replaced (thresholds left out take their defaults); rules left out take theirs. */
export interface AlertSettingsInput {
  rules: {
    'key.new_network'?: { enabled: boolean };
    'key.revoked_used'?: { enabled: boolean };
    'key.usage_spike'?: { enabled: boolean; factor?: number; minCalls?: number };
    'key.credits_low'?: { enabled: boolean; percent?: number };
    'key.expiring_soon'?: { enabled: boolean; days?: number };
    'key.unused'?: { enabled: boolean; days?: number };
  };
}

interface SeenView {
  firstSeenAt: string;
  lastSeenAt: string;
  count: number;
}

/** What a key was used from, most recently seen first. */
export interface KeyActivityView {
  networks: Array<{ network: string } & SeenView>;
  userAgents: Array<{ userAgent: string } & SeenView>;
}

export interface AlertServiceOptions {
  store: Store;
  clock: Clock;
  random: Random;
  /**
   * Every new alert is also an event for the team's webhooks subscribed to its type (the webhook
   * service's `emit`), stored in the alert's transaction (`tx`).
   */
  webhooks: { emit(teamId: string, type: AlertType, data: Record<string, unknown>, tx: Repositories): Promise<unknown> };
  /** Told of every failure of the rules (the server logs it); nothing here ever throws into a flush. */
  onError?: (error: unknown, what: string) => void;
  /** Runs before alerts or activity are read: the server writes its pending usage, so reads are current. */
  beforeRead?: () => Promise<void>;
}

const iso = (ms: Millis) => new Date(ms).toISOString();

function toView(a: AlertRecord): AlertView {
  return { id: a.id, type: a.type, severity: a.severity, keyId: a.keyId, message: a.message, details: a.details, createdAt: iso(a.createdAt), readAt: a.readAt === null ? null : iso(a.readAt) };
}

function seenView(records: SeenRecord[]): Array<{ value: string } & SeenView> {
  return [...records]
    .sort((a, b) => b.lastSeen - a.lastSeen || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .map((r) => ({ value: r.value, firstSeenAt: iso(r.firstSeen), lastSeenAt: iso(r.lastSeen), count: r.count }));
}

/** The team's settings: what it saved, every threshold it left out at its default. */
function effectiveSettings(input: AlertSettingsInput): AlertSettings {
  const d = DEFAULT_ALERT_SETTINGS;
  const r = input.rules;
  const settings: AlertSettings = {
    'key.new_network': { enabled: r['key.new_network']?.enabled ?? d['key.new_network'].enabled },
    'key.revoked_used': { enabled: r['key.revoked_used']?.enabled ?? d['key.revoked_used'].enabled },
    'key.usage_spike': {
      enabled: r['key.usage_spike']?.enabled ?? d['key.usage_spike'].enabled,
      factor: r['key.usage_spike']?.factor ?? d['key.usage_spike'].factor,
      minCalls: r['key.usage_spike']?.minCalls ?? d['key.usage_spike'].minCalls,
    },
    'key.credits_low': { enabled: r['key.credits_low']?.enabled ?? d['key.credits_low'].enabled, percent: r['key.credits_low']?.percent ?? d['key.credits_low'].percent },
    'key.expiring_soon': { enabled: r['key.expiring_soon']?.enabled ?? d['key.expiring_soon'].enabled, days: r['key.expiring_soon']?.days ?? d['key.expiring_soon'].days },
    'key.unused': { enabled: r['key.unused']?.enabled ?? d['key.unused'].enabled, days: r['key.unused']?.days ?? d['key.unused'].days },
  };
  const L = ALERT_SETTING_LIMITS;
  const check = (path: string, value: number, limits: { min: number; max: number }, integer: boolean) => {
    if (!Number.isFinite(value) || value < limits.min || value > limits.max || (integer && !Number.isInteger(value))) {
      throw validationError(path, `must be ${integer ? 'an integer' : 'a number'} from ${limits.min} to ${limits.max}`);
    }
  };
  check('rules.key.usage_spike.factor', settings['key.usage_spike'].factor, L.factor, false);
  check('rules.key.usage_spike.minCalls', settings['key.usage_spike'].minCalls, L.minCalls, true);
  check('rules.key.credits_low.percent', settings['key.credits_low'].percent, L.percent, false);
  check('rules.key.expiring_soon.days', settings['key.expiring_soon'].days, L.expiringDays, true);
  check('rules.key.unused.days', settings['key.unused'].days, L.unusedDays, true);
  return settings;
}

/** What the last flushes left for the rules to look at (merged while an evaluation runs). */
interface PendingWork {
  newNetworks: NewNetwork[];
  /** Rejections as revoked, disabled or expired, per key. */
  refused: Map<string, { teamId: string; codes: Record<string, number>; count: number; lastAt: Millis }>;
  /** Keys with any verification: spike candidates. */
  called: Set<string>;
  /** Keys that spent credits: low-credit candidates (and their teams). */
  spent: Set<string>;
}

const emptyWork = (): PendingWork => ({ newNetworks: [], refused: new Map(), called: new Set(), spent: new Set() });

/** The verification codes this rule watches, and how its message says each. */
const REFUSED_CODES: Record<string, string> = { REVOKED: 'while revoked', INACTIVE: 'while disabled', EXPIRED: 'while expired' };

interface Draft {
  teamId: string;
  key: KeyFacts | null;
  type: AlertType;
  message: string;
  details: Record<string, unknown>;
  dedupeKey: string;
}

/**
 * Usage monitoring: the alert rules, evaluated off the verification path (after each usage
 * flush, and by a periodic sweep), the alerts they raise (also sent to the team's webhooks), the
 * teams' settings of the rules, and what each key was used from.
 */
export function createAlertService({ store, clock, random, webhooks, onError = () => {}, beforeRead = async () => {} }: AlertServiceOptions) {
  const audit = createAuditWriter(clock, random);
  let pending = emptyWork();
  let scheduled = false;
  // Evaluations run one at a time, in order; `settle()` waits for those queued so far.
  let tail: Promise<void> = Promise.resolve();
  let sweepTail: Promise<number> = Promise.resolve(0);
  // A key's spike baseline (the hour before, the 7 days before) does not change within an hour: it is
  // read once per key and hour, and each flush after that reads only the current hour's bucket.
  let baselineHour = Number.NaN;
  const baselines = new Map<string, { previous: number; baseline: number }>();
  // Alerts that could not be stored (with their webhook events), by dedupe key: tried again before
  // the next evaluation and at each sweep. Storing is idempotent (the dedupe key), so a retry never doubles one.
  let failed = new Map<string, { draft: Draft; at: Millis }>();

  async function guarded(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      onError(error, what);
    }
  }

  async function settingsFor(teamIds: string[]): Promise<(teamId: string) => AlertSettings> {
    const saved = teamIds.length > 0 ? await store.alerts.settingsOf(teamIds) : new Map<string, AlertSettings>();
    return (teamId) => saved.get(teamId) ?? DEFAULT_ALERT_SETTINGS;
  }

  /**
   * Stores the alert unless its condition raised one already, and its webhook deliveries with it
   * in one transaction: an alert is never kept without its events, nor events without it.
   */
  async function raise(draft: Draft, now: Millis): Promise<boolean> {
    const record: AlertRecord = {
      id: createId(random, 'alr'),
      teamId: draft.teamId,
      keyId: draft.key?.id ?? null,
      type: draft.type,
      severity: ALERT_SEVERITY[draft.type],
      message: draft.message,
      details: draft.details,
      createdAt: now,
      readAt: null,
      dedupeKey: draft.dedupeKey,
    };
    const key = draft.key ? { id: draft.key.id, name: draft.key.name, prefix: draft.key.prefix } : null;
    return store.transaction(async (tx) => {
      if (!(await tx.alerts.insert(record))) return false;
      await webhooks.emit(draft.teamId, draft.type, { alert: toView(record), key, teamId: draft.teamId }, tx);
      return true;
    });
  }

  async function raiseAll(drafts: Draft[], now: Millis): Promise<number> {
    let raised = 0;
    for (const draft of drafts) {
      try {
        if (await raise(draft, now)) raised += 1;
      } catch (error) {
        onError(error, `storing a ${draft.type} alert (will retry)`);
        if (failed.size < MAX_FAILED_ALERTS) failed.set(draft.dedupeKey, { draft, at: now });
      }
    }
    return raised;
  }

  /** Tries the alerts that could not be stored again, each at the time it was found (what failed again stays queued). */
  async function retryFailed(): Promise<number> {
    if (failed.size === 0) return 0;
    const taken = [...failed.values()];
    failed = new Map();
    let raised = 0;
    for (const { draft, at } of taken) raised += await raiseAll([draft], at);
    return raised;
  }

  const keyDetails = (key: KeyFacts) => ({ keyName: key.name, keyPrefix: key.prefix });

  async function newNetworkRule(work: PendingWork, facts: Map<string, KeyFacts>, settings: (teamId: string) => AlertSettings, now: Millis) {
    const drafts: Draft[] = [];
    for (const n of work.newNetworks) {
      const key = facts.get(n.keyId);
      // A refused key is the revoked-key rule's business; a purged one is no one's.
      if (!key || !isActive(key, now) || !settings(key.teamId)['key.new_network'].enabled) continue;
      drafts.push({
        teamId: key.teamId,
        key,
        type: 'key.new_network',
        message: `Key "${key.name}" was used from a network it had not used in the last 30 days: ${n.network}`,
        details: { ...keyDetails(key), network: n.network, seenAt: iso(n.at), previouslySeenAt: n.previousLastSeen === null ? null : iso(n.previousLastSeen) },
        dedupeKey: dedupeKeys.newNetwork(n),
      });
    }
    await raiseAll(drafts, now);
  }

  async function refusedRule(work: PendingWork, facts: Map<string, KeyFacts>, settings: (teamId: string) => AlertSettings, now: Millis) {
    const candidates = [...work.refused].filter(([keyId]) => {
      const key = facts.get(keyId);
      return key !== undefined && settings(key.teamId)['key.revoked_used'].enabled;
    });
    if (candidates.length === 0) return;
    // At most one per key per hour: none if one was raised in the last 60 minutes (the dedupe key guards races).
    const recent = await store.alerts.latestOf('key.revoked_used', candidates.map(([keyId]) => keyId), now - REVOKED_USED_EVERY_MS + 1);
    const drafts: Draft[] = [];
    for (const [keyId, r] of candidates) {
      const key = facts.get(keyId) as KeyFacts;
      if (recent.has(keyId)) continue;
      // REVOKED for a key that is not revoked: an old secret, retired by a regenerate, was presented.
      const how = Object.keys(r.codes).map((code) => (code === 'REVOKED' && key.revokedAt === null ? 'with an old secret retired by a regenerate' : (REFUSED_CODES[code] ?? code)));
      const status = keyStatus(key, now);
      drafts.push({
        teamId: key.teamId,
        key,
        type: 'key.revoked_used',
        message: `Key "${key.name}" was still presented ${r.count} time${r.count === 1 ? '' : 's'} ${how.join(' and ')}`,
        details: { ...keyDetails(key), status, codes: r.codes, count: r.count, lastPresentedAt: iso(r.lastAt) },
        dedupeKey: dedupeKeys.revokedUsed(keyId, now),
      });
    }
    await raiseAll(drafts, now);
  }

  async function spikeRule(work: PendingWork, facts: Map<string, KeyFacts>, settings: (teamId: string) => AlertSettings, now: Millis) {
    const ids = [...work.called].filter((keyId) => {
      const key = facts.get(keyId);
      return key !== undefined && settings(key.teamId)['key.usage_spike'].enabled;
    });
    if (ids.length === 0) return;
    const hour = Math.floor(now / HOUR) * HOUR;
    if (hour !== baselineHour) {
      baselines.clear();
      baselineHour = hour;
    }
    const stats: CallStats[] = [];
    const known = ids.filter((id) => baselines.has(id));
    const fresh = ids.filter((id) => !baselines.has(id));
    if (fresh.length > 0) {
      for (const s of await store.alerts.callStats(fresh, hour)) {
        stats.push(s);
        if (baselines.size < MAX_BASELINES) baselines.set(s.keyId, { previous: s.previous, baseline: s.baseline });
      }
    }
    if (known.length > 0) {
      const current = await store.alerts.callsInHour(known, hour);
      for (const keyId of known) stats.push({ keyId, current: current.get(keyId) ?? 0, ...(baselines.get(keyId) as { previous: number; baseline: number }) });
    }
    const drafts: Draft[] = [];
    for (const s of stats) {
      const key = facts.get(s.keyId) as KeyFacts;
      const rule = settings(key.teamId)['key.usage_spike'];
      const spike = spikeOf(s, key, now, rule);
      if (!spike) continue;
      const average = Math.round(spike.average * 100) / 100;
      drafts.push({
        teamId: key.teamId,
        key,
        type: 'key.usage_spike',
        message: `Key "${key.name}" made ${spike.calls} calls in the last hour, more than ${rule.factor}× its hourly average of ${average}`,
        details: { ...keyDetails(key), calls: spike.calls, hourlyAverage: average, baselineHours: spike.baselineHours, factor: rule.factor, minCalls: rule.minCalls },
        dedupeKey: dedupeKeys.usageSpike(key.id, now),
      });
    }
    if (drafts.length === 0) return;
    const recent = await store.alerts.latestOf('key.usage_spike', drafts.map((d) => (d.key as KeyFacts).id), now - HOUR + 1);
    await raiseAll(
      drafts.filter((d) => !recent.has((d.key as KeyFacts).id)),
      now,
    );
  }

  async function creditsRule(work: PendingWork, facts: Map<string, KeyFacts>, settings: (teamId: string) => AlertSettings, now: Millis) {
    const drafts: Draft[] = [];
    const teams = new Set<string>();
    for (const keyId of work.spent) {
      const key = facts.get(keyId);
      if (!key) continue;
      const rule = settings(key.teamId)['key.credits_low'];
      if (!rule.enabled) continue;
      teams.add(key.teamId);
      const c = key.credits;
      if (!c || !isCreditsLow(c.remaining, c.limit, rule.percent)) continue;
      drafts.push({
        teamId: key.teamId,
        key,
        type: 'key.credits_low',
        message: `Key "${key.name}" has ${c.remaining} of ${c.limit} credits left, under ${rule.percent} %`,
        details: { ...keyDetails(key), subject: 'key', remaining: c.remaining, limit: c.limit, percent: rule.percent },
        dedupeKey: dedupeKeys.keyCreditsLow(key.id, c.generation),
      });
    }
    if (teams.size > 0) {
      for (const t of await store.alerts.teamCredits([...teams])) {
        const rule = settings(t.teamId)['key.credits_low'];
        if (!isCreditsLow(t.remaining, t.limit, rule.percent)) continue;
        drafts.push({
          teamId: t.teamId,
          key: null,
          type: 'key.credits_low',
          message: `The team has ${t.remaining} of ${t.limit} credits left, under ${rule.percent} %`,
          details: { subject: 'team', remaining: t.remaining, limit: t.limit, percent: rule.percent },
          dedupeKey: dedupeKeys.teamCreditsLow(t.teamId, t.generation),
        });
      }
    }
    await raiseAll(drafts, now);
  }

  /** Runs the flush-driven rules for what the batches since the last evaluation held. */
  async function evaluate(work: PendingWork): Promise<void> {
    // First: a retried alert is stored before the rules look for recent ones (one per hour).
    await retryFailed();
    const keyIds = [...new Set([...work.called, ...work.refused.keys(), ...work.newNetworks.map((n) => n.keyId)])];
    if (keyIds.length === 0) return;
    const now = clock.now();
    let facts: Map<string, KeyFacts>;
    let settings: (teamId: string) => AlertSettings;
    try {
      facts = new Map((await store.alerts.keyFacts(keyIds)).map((k) => [k.id, k]));
      settings = await settingsFor([...new Set([...facts.values()].map((k) => k.teamId))]);
    } catch (error) {
      // Nothing was judged: the work goes back, for the next evaluation.
      requeue(work);
      throw error;
    }
    await guarded('the key.new_network rule', () => newNetworkRule(work, facts, settings, now));
    await guarded('the key.revoked_used rule', () => refusedRule(work, facts, settings, now));
    await guarded('the key.usage_spike rule', () => spikeRule(work, facts, settings, now));
    await guarded('the key.credits_low rule', () => creditsRule(work, facts, settings, now));
  }

  function addRefused(work: PendingWork, keyId: string, teamId: string, code: string, count: number, lastAt: Millis): void {
    let entry = work.refused.get(keyId);
    if (!entry) work.refused.set(keyId, (entry = { teamId, codes: {}, count: 0, lastAt }));
    entry.codes[code] = (entry.codes[code] ?? 0) + count;
    entry.count += count;
    entry.lastAt = Math.max(entry.lastAt, lastAt);
  }

  /** Puts work that could not be evaluated back in front of what came since. */
  function requeue(work: PendingWork): void {
    const into = pending;
    into.newNetworks = [...work.newNetworks, ...into.newNetworks].slice(0, MAX_PENDING_NETWORKS);
    for (const [keyId, r] of work.refused) for (const [code, count] of Object.entries(r.codes)) addRefused(into, keyId, r.teamId, code, count, r.lastAt);
    for (const keyId of work.called) into.called.add(keyId);
    for (const keyId of work.spent) into.spent.add(keyId);
  }

  /** Queues what a written batch tells the rules; never throws. */
  function observe(batch: UsageBatch, before: SeenRecord[] | null): void {
    try {
      const work = pending;
      if (batch.seen && before !== null) {
        for (const n of findNewNetworks(batch.seen, before)) if (work.newNetworks.length < MAX_PENDING_NETWORKS) work.newNetworks.push(n);
      }
      for (const r of batch.rejections ?? []) if (r.code in REFUSED_CODES) addRefused(work, r.keyId, r.teamId, r.code, r.count, r.lastAt);
      for (const h of batch.hours) {
        work.called.add(h.keyId);
        if (h.creditsUsed > 0) work.spent.add(h.keyId);
      }
      if (scheduled) return;
      scheduled = true;
      tail = tail.then(async () => {
        scheduled = false;
        const taken = pending;
        pending = emptyWork();
        await guarded('evaluating alert rules', () => evaluate(taken));
      });
    } catch (error) {
      onError(error, 'queueing alert rules');
    }
  }

  /** The networks kept for the batch's keys before it is written: what "new" is measured against. */
  async function networksBefore(batch: UsageBatch): Promise<SeenRecord[] | null> {
    const keyIds = (batch.seen ?? []).filter((s) => s.networks.length > 0).map((s) => s.keyId);
    if (keyIds.length === 0) return [];
    try {
      return await store.alerts.networksOf(keyIds);
    } catch (error) {
      onError(error, 'reading the networks keys were used from');
      return null;
    }
  }

  /** Pages through the keys a sweep rule finds and raises the alerts not raised before. */
  async function sweepPages(
    page: (afterId: string) => Promise<KeyFacts[]>,
    draft: (key: KeyFacts, settings: AlertSettings) => Draft,
    now: Millis,
  ): Promise<number> {
    let raised = 0;
    let afterId = '';
    for (;;) {
      const keys = await page(afterId);
      if (keys.length === 0) break;
      const settings = await settingsFor([...new Set(keys.map((k) => k.teamId))]);
      const drafts = keys.map((k) => draft(k, settings(k.teamId)));
      const taken = await store.alerts.existingDedupeKeys(drafts.map((d) => d.dedupeKey));
      raised += await raiseAll(
        drafts.filter((d) => !taken.has(d.dedupeKey)),
        now,
      );
      if (keys.length < SWEEP_PAGE) break;
      afterId = (keys[keys.length - 1] as KeyFacts).id;
    }
    return raised;
  }

  async function sweepOnce(): Promise<number> {
    const now = clock.now();
    let raised = await retryFailed();
    const expiring = DEFAULT_ALERT_SETTINGS['key.expiring_soon'];
    const unused = DEFAULT_ALERT_SETTINGS['key.unused'];
    await guarded('the key.expiring_soon sweep', async () => {
      raised += await sweepPages(
        (afterId) => store.alerts.expiringKeys({ now, afterId, limit: SWEEP_PAGE, defaults: expiring }),
        (key, settings) => {
          const expiresAt = key.expiresAt as Millis;
          const days = settings['key.expiring_soon'].days;
          return {
            teamId: key.teamId,
            key,
            type: 'key.expiring_soon',
            message: `Key "${key.name}" expires on ${iso(expiresAt)}, within ${days} day${days === 1 ? '' : 's'}`,
            details: { ...keyDetails(key), expiresAt: iso(expiresAt), days },
            dedupeKey: dedupeKeys.expiringSoon(key.id, expiresAt),
          };
        },
        now,
      );
    });
    await guarded('the key.unused sweep', async () => {
      raised += await sweepPages(
        (afterId) => store.alerts.idleKeys({ now, afterId, limit: SWEEP_PAGE, defaults: unused }),
        (key, settings) => {
          const days = settings['key.unused'].days;
          return {
            teamId: key.teamId,
            key,
            type: 'key.unused',
            message:
              key.lastUsedAt === null
                ? `Key "${key.name}" has never been used since it was created ${Math.floor((now - key.createdAt) / DAY)} days ago`
                : `Key "${key.name}" has not been used for ${Math.floor((now - key.lastUsedAt) / DAY)} days`,
            details: { ...keyDetails(key), lastUsedAt: key.lastUsedAt === null ? null : iso(key.lastUsedAt), createdAt: iso(key.createdAt), days },
            dedupeKey: dedupeKeys.unused(key.id, key.lastUsedAt),
          };
        },
        now,
      );
    });
    return raised;
  }

  async function load(access: TeamAccess, id: string): Promise<AlertRecord> {
    const alert = await store.alerts.find(access.teamId, id);
    if (!alert) throw notFound('Alert');
    return alert;
  }

  /** Writes pending usage and waits for its rules, so a read shows what the verifications so far raised. */
  async function current(): Promise<void> {
    await beforeRead().catch((error: unknown) => onError(error, 'writing pending usage before a read'));
    await tail;
  }

  return {
    /**
     * Writes a usage batch (`Store.writeUsage`, keeping its once-per-id guarantee), then queues
     * the rules for it. Reads the networks kept for its keys first, to tell which are new. A
     * failure of the rules is reported to `onError`, never to the caller: only the write can fail.
     */
    async writeUsage(batch: UsageBatch): Promise<void> {
      const before = await networksBefore(batch);
      await store.writeUsage(batch);
      observe(batch, before);
    },

    /** Raises `key.expiring_soon` and `key.unused` alerts that are due; returns how many it raised. */
    runSweep(): Promise<number> {
      sweepTail = sweepTail.catch(() => 0).then(sweepOnce);
      return sweepTail;
    },

    /** Resolves once the evaluations queued so far have run. */
    settle(): Promise<void> {
      return tail;
    },

    /** Tries the alerts that could not be stored again now (as a stop does); returns how many it stored. Never throws. */
    retryFailed,

    async list(access: TeamAccess, query: { limit: number; cursor?: string; type?: AlertType; unread?: boolean; keyId?: string }): Promise<Page<AlertView>> {
      requirePermission(access, 'keys.read');
      const sort = '-createdAt';
      const page = { limit: query.limit, cursor: query.cursor ? decodeCursor(query.cursor, sort, 'integer') : null };
      await current();
      const filter = { teamId: access.teamId, type: query.type ?? null, unread: query.unread ?? null, keyId: query.keyId ?? null };
      const [rows, total] = await Promise.all([store.alerts.list({ ...filter, page }), store.alerts.count(filter)]);
      const result = buildPage(rows, page, sort, (a) => a.createdAt, total);
      return { ...result, data: result.data.map(toView) };
    },

    /** Marks one alert read (for the whole team); reading it again keeps the first time. */
    async markRead(access: TeamAccess, id: string): Promise<AlertView> {
      requirePermission(access, 'keys.read');
      const alert = await load(access, id);
      if (alert.readAt !== null) return toView(alert);
      const now = clock.now();
      if (await store.alerts.markRead(access.teamId, id, now)) return toView({ ...alert, readAt: now });
      return toView(await load(access, id));
    },

    async markAllRead(access: TeamAccess): Promise<{ updated: number }> {
      requirePermission(access, 'keys.read');
      await current();
      return { updated: await store.alerts.markAllRead(access.teamId, clock.now()) };
    },

    async getSettings(access: TeamAccess): Promise<AlertSettingsView> {
      requirePermission(access, 'keys.read');
      const saved = await store.alerts.settings(access.teamId);
      return saved ? { rules: saved.settings, updatedAt: iso(saved.updatedAt) } : { rules: DEFAULT_ALERT_SETTINGS, updatedAt: null };
    },

    /** Replaces the team's settings (audited); what it leaves out takes the defaults. */
    async putSettings(access: TeamAccess, input: AlertSettingsInput): Promise<AlertSettingsView> {
      requirePermission(access, 'members.manage');
      const settings = effectiveSettings(input);
      const now = clock.now();
      await store.transaction(async (tx) => {
        await tx.alerts.putSettings(access.teamId, settings, now);
        const disabled = ALERT_TYPES.filter((type) => !settings[type].enabled);
        await audit(tx, access, 'alert_settings.updated', { type: 'alert_settings', id: access.teamId, label: 'Alert settings' }, { rules: Object.keys(input.rules), disabled });
      });
      return { rules: settings, updatedAt: iso(now) };
    },

    /** The networks and user agents a key of the team was used from (another team's key is not found). */
    async activity(access: TeamAccess, keyId: string): Promise<KeyActivityView> {
      requirePermission(access, 'keys.read');
      if (!(await store.keys.find(access.teamId, keyId))) throw notFound('Key');
      await beforeRead().catch((error: unknown) => onError(error, 'writing pending usage before a read'));
      const [networks, agents] = await Promise.all([store.alerts.networksOf([keyId]), store.alerts.userAgentsOf([keyId])]);
      return {
        networks: seenView(networks).map(({ value, ...rest }) => ({ network: value, ...rest })),
        userAgents: seenView(agents).map(({ value, ...rest }) => ({ userAgent: value, ...rest })),
      };
    },
  };
}

export type AlertService = ReturnType<typeof createAlertService>;
