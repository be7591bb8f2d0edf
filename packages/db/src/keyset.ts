import { sql, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { PageRequest } from '@keysmith/core';

/**
 * One page of a table listed newest first by `created_at`, then `id` (both columns of the table
 * queried): the rows after the cursor (before it, for a `before` cursor, in ascending order), one
 * more than the limit so the caller can tell whether another page follows.
 */
export function newestFirstPage<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, page: PageRequest): SelectQueryBuilder<DB, TB, O> {
  const backwards = page.cursor?.direction === 'before';
  const op = sql.raw(backwards ? '>' : '<');
  const direction = sql.raw(backwards ? 'asc' : 'desc');
  const cursor = page.cursor;
  return query
    .$if(cursor !== null, (qb) => {
      const at = Number((cursor as NonNullable<typeof cursor>).value);
      const id = (cursor as NonNullable<typeof cursor>).id;
      return qb.where(sql<SqlBool>`(created_at ${op} ${at} or (created_at = ${at} and id ${op} ${id}))`);
    })
    .orderBy(sql`created_at ${direction}`)
    .orderBy(sql`id ${direction}`)
    .limit(page.limit + 1);
}
