import { sql, type Kysely, type Transaction } from 'kysely';
import type { CreditLeaseReturn, CreditLeaseStore, CreditSubject } from '@keysmith/core';
import type { Dialect } from './database';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

/** The subject's credits (null: none to lease) and their generation, locked until the transaction ends (PostgreSQL). */
async function readBalance(db: Db, subject: CreditSubject, lock: boolean): Promise<{ remaining: number | null; generation: number } | undefined> {
  if (subject.kind === 'key') {
    const row = await db
      .selectFrom('api_keys')
      .select(['credits_remaining', 'credits_generation', 'refill_amount'])
      .where('id', '=', subject.id)
      .$if(lock, (qb) => qb.forUpdate())
      .executeTakeFirst();
    // A refill would put back credits a block already holds: refill keys are spent per request.
    return row && { remaining: row.refill_amount === null ? row.credits_remaining : null, generation: Number(row.credits_generation) };
  }
  const row = await db.selectFrom('teams').select(['credits_balance', 'credits_generation']).where('id', '=', subject.id).$if(lock, (qb) => qb.forUpdate()).executeTakeFirst();
  return row && { remaining: row.credits_balance, generation: Number(row.credits_generation) };
}

/** Adds `delta` (negative: takes) to the subject's credits only while they stay ≥ 0 and their generation is `generation`. */
async function adjust(db: Db, subject: CreditSubject, delta: number, generation: number): Promise<number | null> {
  if (subject.kind === 'key') {
    const row = await db
      .updateTable('api_keys')
      .set({ credits_remaining: sql<number>`credits_remaining + ${delta}` })
      .where('id', '=', subject.id)
      .where('credits_generation', '=', generation)
      .where('credits_remaining', '>=', Math.max(0, -delta))
      .returning('credits_remaining')
      .executeTakeFirst();
    return row?.credits_remaining ?? null;
  }
  const row = await db
    .updateTable('teams')
    .set({ credits_balance: sql<number>`credits_balance + ${delta}` })
    .where('id', '=', subject.id)
    .where('credits_generation', '=', generation)
    .where('credits_balance', '>=', Math.max(0, -delta))
    .returning('credits_balance')
    .executeTakeFirst();
  return row?.credits_balance ?? null;
}

/** Deletes the lease and gives its rest back if the row existed and the credits' generation is unchanged. */
async function giveBackOne(db: Db, back: CreditLeaseReturn): Promise<void> {
  const lease = await db.deleteFrom('credit_leases').where('id', '=', back.leaseId).returning(['subject_kind', 'subject_id', 'generation']).executeTakeFirst();
  // No row: given back already, or swept after expiry (forfeited). Either way nothing to add.
  if (!lease || back.rest <= 0 || (lease.subject_kind !== 'key' && lease.subject_kind !== 'team')) return;
  // A changed generation means the owner set new credits (or a refill did): the old rest is not theirs.
  await adjust(db, { kind: lease.subject_kind, id: lease.subject_id }, back.rest, Number(lease.generation));
}

/** Credit leases over Kysely, for SQLite and PostgreSQL from one implementation (see CreditLeaseStore). */
export function createCreditLeaseRepository(db: Kysely<Database>, dialect: Dialect): CreditLeaseStore {
  // PostgreSQL: the subject's row stays locked from the read to the grant; SQLite runs one writer at a time.
  const lock = dialect === 'postgres';
  return {
    async grant(request) {
      const { subject } = request;
      return db.transaction().execute(async (trx) => {
        if (request.giveBack) await giveBackOne(trx, request.giveBack);
        await trx
          .deleteFrom('credit_leases')
          .where('subject_kind', '=', subject.kind)
          .where('subject_id', '=', subject.id)
          .where('expires_at', '<=', request.now)
          .execute();
        const balance = await readBalance(trx, subject, lock);
        if (!balance || balance.remaining === null) return { granted: 0, remaining: null };
        const block = Math.floor(request.size(balance.remaining));
        if (!(block > 0) || block > balance.remaining) return { granted: 0, remaining: balance.remaining };
        const remaining = await adjust(trx, subject, -block, balance.generation);
        if (remaining === null) return { granted: 0, remaining: balance.remaining };
        await trx
          .insertInto('credit_leases')
          .values({
            id: request.leaseId,
            instance_id: request.instanceId,
            subject_kind: subject.kind,
            subject_id: subject.id,
            granted: block,
            spent: 0,
            generation: balance.generation,
            created_at: request.now,
            expires_at: request.expiresAt,
          })
          .execute();
        return { granted: block, remaining: Number(remaining) };
      });
    },

    async giveBack(returns) {
      if (returns.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const back of returns) await giveBackOne(trx, back);
      });
    },

    async report(spent) {
      for (const { leaseId, spent: n } of spent) {
        await db.updateTable('credit_leases').set({ spent: n }).where('id', '=', leaseId).where('spent', '<', n).execute();
      }
    },

    async sweep(now) {
      const result = await db.deleteFrom('credit_leases').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
