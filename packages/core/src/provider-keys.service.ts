import { requirePermission, type TeamAccess } from './access';
import { createAuditWriter } from './audit';
import type { Clock } from './clock';
import { KeysmithError, notFound, validationError } from './errors';
import type { Millis, Page } from './model';
import { buildPage, decodeCursor } from './pagination';
import type { PageRequest } from './pagination';
import { createId, type Random } from './random';
import type { Store } from './ports';
import { VaultError, type SealedSecret, type Vault } from './vault/envelope';

export const PROVIDER_KEY_TYPES = [
  { id: 'openai', label: 'OpenAI', category: 'ai' },
  { id: 'anthropic', label: 'Anthropic', category: 'ai' },
  { id: 'google', label: 'Google', category: 'ai' },
  { id: 'deepseek', label: 'DeepSeek', category: 'ai' },
  { id: 'fast_inference', label: 'Fast Inference', category: 'ai' },
  { id: 'xai', label: 'XAI', category: 'ai' },
  { id: 'perplexity', label: 'Perplexity', category: 'ai' },
  { id: 'data_platform', label: 'Data Platform', category: 'ai' },
  { id: 'support_system', label: 'Support System', category: 'support' },
  { id: 'google_translate', label: 'Google Translate', category: 'support' },
  { id: 'exa', label: 'Exa', category: 'search' },
] as const;

export type ProviderKeyType = (typeof PROVIDER_KEY_TYPES)[number]['id'];
export const PROVIDER_KEY_TYPE_IDS = PROVIDER_KEY_TYPES.map((t) => t.id) as ProviderKeyType[];

/** The contract's sorts, plus `updatedAt` (an addition, for the dashboard's Updated column). */
export type ProviderKeySort = 'createdAt' | '-createdAt' | 'updatedAt' | '-updatedAt' | 'description' | '-description' | 'type' | '-type';

/** A stored credential as the repository holds it: sealed, with a display hint, never in clear. */
export interface ProviderKeyRecord {
  id: string;
  teamId: string;
  type: ProviderKeyType;
  description: string;
  /** What maskedKey shows: at most the first 3 and last 4 characters. */
  hint: string;
  sealed: SealedSecret;
  createdAt: Millis;
  updatedAt: Millis;
  createdBy: { id: string; name: string } | null;
}

export interface ProviderKeyRepository {
  insert(record: ProviderKeyRecord): Promise<void>;
  find(teamId: string, id: string): Promise<ProviderKeyRecord | undefined>;
  list(query: { teamId: string; q: string | null; type: ProviderKeyType | null; sort: ProviderKeySort; page: PageRequest }): Promise<ProviderKeyRecord[]>;
  count(query: { teamId: string; q: string | null; type: ProviderKeyType | null }): Promise<number>;
  update(id: string, changes: Partial<Pick<ProviderKeyRecord, 'type' | 'description' | 'hint' | 'sealed' | 'updatedAt'>>): Promise<void>;
  delete(id: string): Promise<void>;
  /** Up to `limit` records sealed under a master key other than `masterKeyId`, any team. */
  sealedUnder(notMasterKeyId: string, limit: number): Promise<ProviderKeyRecord[]>;
  /**
   * Replaces the sealed data key only if the row is still sealed under `expectedMasterKeyId` and
   * still holds `sealed.ciphertext` (a key changed meanwhile has a data key of its own).
   */
  rewrap(id: string, expectedMasterKeyId: string, sealed: SealedSecret): Promise<boolean>;
}

export interface ProviderKeyView {
  id: string;
  type: ProviderKeyType;
  description: string;
  maskedKey: string;
  createdAt: string;
  updatedAt: string;
  createdBy: { id: string; name: string } | null;
}

/** At most the first 3 and last 4 characters; all bullets when shorter than 12. */
export function maskKey(key: string): string {
  const chars = [...key];
  if (chars.length < 12) return '•'.repeat(Math.max(chars.length, 8));
  return `${chars.slice(0, 3).join('')}…${chars.slice(-4).join('')}`;
}

const SORT_VALUE: Record<ProviderKeySort, (r: ProviderKeyRecord) => string | number> = {
  createdAt: (r) => r.createdAt,
  '-createdAt': (r) => r.createdAt,
  updatedAt: (r) => r.updatedAt,
  '-updatedAt': (r) => r.updatedAt,
  description: (r) => r.description,
  '-description': (r) => r.description,
  type: (r) => r.type,
  '-type': (r) => r.type,
};

function toView(r: ProviderKeyRecord): ProviderKeyView {
  return {
    id: r.id,
    type: r.type,
    description: r.description,
    maskedKey: r.hint,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
    createdBy: r.createdBy,
  };
}

export interface ProviderKeyServiceOptions {
  store: Store;
  clock: Clock;
  random: Random;
  /** Null when no master key could be loaded: every endpoint that needs it fails closed. */
  vault: Vault | null;
}

/** The team vault for outside services' credentials: sealed at rest, revealed only by permission. */
export function createProviderKeyService({ store, clock, random, vault }: ProviderKeyServiceOptions) {
  const audit = createAuditWriter(clock, random);

  function requireVault(): Vault {
    if (!vault) throw new KeysmithError('CREDENTIAL_UNAVAILABLE', 'The credential vault is not available: no master key is configured');
    return vault;
  }

  function checkDescription(description: string): string {
    const trimmed = description.trim();
    if (!trimmed) throw validationError('description', 'must not be empty');
    // Characters, as the request schema counts them, not UTF-16 units.
    if ([...trimmed].length > 200) throw validationError('description', 'must be at most 200 characters');
    return trimmed;
  }

  async function load(access: TeamAccess, id: string): Promise<ProviderKeyRecord> {
    const record = await store.providerKeys.find(access.teamId, id);
    if (!record) throw notFound('Provider credential');
    return record;
  }

  return {
    types: () => PROVIDER_KEY_TYPES.map((t) => ({ ...t })),

    async list(access: TeamAccess, query: { limit: number; cursor?: string; q?: string; type?: ProviderKeyType; sort?: ProviderKeySort }): Promise<Page<ProviderKeyView>> {
      requirePermission(access, 'provider_keys.read');
      const sort = query.sort ?? '-createdAt';
      const page = { limit: query.limit, cursor: query.cursor ? decodeCursor(query.cursor, sort, /At$/.test(sort) ? 'integer' : 'string') : null };
      const filter = { teamId: access.teamId, q: query.q?.trim() || null, type: query.type ?? null };
      const [rows, total] = await Promise.all([store.providerKeys.list({ ...filter, sort, page }), store.providerKeys.count(filter)]);
      const result = buildPage(rows, page, sort, SORT_VALUE[sort], total);
      return { ...result, data: result.data.map(toView) };
    },

    async get(access: TeamAccess, id: string): Promise<ProviderKeyView> {
      requirePermission(access, 'provider_keys.read');
      return toView(await load(access, id));
    },

    async create(access: TeamAccess, input: { type: ProviderKeyType; description: string; key: string }): Promise<ProviderKeyView> {
      requirePermission(access, 'provider_keys.write');
      const v = requireVault();
      const description = checkDescription(input.description);
      const now = clock.now();
      const id = createId(random, 'pvk');
      const creator = access.actor.type === 'user' ? await store.users.findById(access.actor.id) : undefined;
      const record: ProviderKeyRecord = {
        id,
        teamId: access.teamId,
        type: input.type,
        description,
        hint: maskKey(input.key),
        sealed: v.seal(input.key, { teamId: access.teamId, recordId: id }),
        createdAt: now,
        updatedAt: now,
        createdBy: creator ? { id: creator.id, name: creator.name } : { id: access.actor.id, name: access.actor.label },
      };
      await store.transaction(async (tx) => {
        await tx.providerKeys.insert(record);
        await audit(tx, access, 'provider_key.created', { type: 'provider_key', id, label: description }, { type: input.type });
      });
      return toView(record);
    },

    async update(access: TeamAccess, id: string, input: { type?: ProviderKeyType; description?: string; key?: string }): Promise<ProviderKeyView> {
      requirePermission(access, 'provider_keys.write');
      const record = await load(access, id);
      const changes: Partial<ProviderKeyRecord> = { updatedAt: clock.now() };
      if (input.type !== undefined) changes.type = input.type;
      if (input.description !== undefined) changes.description = checkDescription(input.description);
      if (input.key !== undefined) {
        changes.sealed = requireVault().seal(input.key, { teamId: access.teamId, recordId: id });
        changes.hint = maskKey(input.key);
      }
      const updated = { ...record, ...changes };
      await store.transaction(async (tx) => {
        await tx.providerKeys.update(id, changes);
        const fields = Object.keys(input).filter((k) => input[k as keyof typeof input] !== undefined);
        await audit(tx, access, 'provider_key.updated', { type: 'provider_key', id, label: updated.description }, { fields });
      });
      return toView(updated);
    },

    async remove(access: TeamAccess, id: string): Promise<void> {
      requirePermission(access, 'provider_keys.write');
      const record = await load(access, id);
      await store.transaction(async (tx) => {
        await tx.providerKeys.delete(id);
        await audit(tx, access, 'provider_key.deleted', { type: 'provider_key', id, label: record.description }, { type: record.type });
      });
    },

    /** The credential in clear, for those allowed; every reveal is audited with its actor. */
    async reveal(access: TeamAccess, id: string): Promise<{ key: string }> {
      requirePermission(access, 'provider_keys.reveal');
      const record = await load(access, id);
      let key: string;
      try {
        key = requireVault().open(record.sealed, { teamId: access.teamId, recordId: id });
      } catch (error) {
        if (error instanceof VaultError) {
          throw new KeysmithError('CREDENTIAL_UNAVAILABLE', 'This credential cannot be decrypted with the configured master keys');
        }
        throw error;
      }
      await store.transaction(async (tx) => {
        await audit(tx, access, 'provider_key.revealed', { type: 'provider_key', id, label: record.description });
      });
      return { key };
    },
  };
}

export type ProviderKeyService = ReturnType<typeof createProviderKeyService>;

/**
 * Re-seals every data key under the newest master key, a batch per transaction. Each row is
 * rewrapped only if still under its old key, so a killed run can simply be run again.
 */
export async function rotateMasterKey(
  store: Store,
  vault: Vault,
  options: { batchSize?: number; onBatch?: (done: number) => void } = {},
): Promise<{ rewrapped: number; failed: string[] }> {
  const batchSize = options.batchSize ?? 100;
  let rewrapped = 0;
  const failed = new Set<string>();
  for (;;) {
    const batch = (await store.providerKeys.sealedUnder(vault.currentMasterKeyId, batchSize + failed.size)).filter((r) => !failed.has(r.id));
    if (batch.length === 0) break;
    await store.transaction(async (tx) => {
      for (const record of batch) {
        try {
          const sealed = vault.rewrap(record.sealed, { teamId: record.teamId, recordId: record.id });
          if (await tx.providerKeys.rewrap(record.id, record.sealed.masterKeyId, sealed)) rewrapped += 1;
        } catch (error) {
          if (!(error instanceof VaultError)) throw error;
          failed.add(record.id);
        }
      }
    });
    options.onBatch?.(rewrapped);
  }
  return { rewrapped, failed: [...failed] };
}
