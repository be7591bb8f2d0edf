import { validationError } from './errors';

/** A position in a sorted list: the sort value and id of the row at the edge of a page. */
export interface Cursor {
  /** 'after' pages forward from the row, 'before' pages back. */
  direction: 'after' | 'before';
  value: string | number;
  id: string;
  /** The sort the cursor was made for; a cursor is refused under another sort. */
  sort: string;
}

export interface PageRequest {
  limit: number;
  cursor: Cursor | null;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.direction, cursor.value, cursor.id, cursor.sort])).toString(
    'base64url',
  );
}

/** The type a sort's values have: a cursor carrying another type is not one of ours. */
export type CursorValueType = 'string' | 'integer';

// PostgreSQL text cannot hold NUL, so no value or id taken from a row contains one.
const hasNul = (text: string) => text.includes('\u0000');

/**
 * Decodes an opaque cursor; anything that is not one of ours is a 400. With `valueType`, the
 * value must also be of the sort's type, so a forged cursor never reaches SQL as a 500.
 */
export function decodeCursor(raw: string, sort: string, valueType?: CursorValueType): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw validationError('cursor', 'is not a valid cursor');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 4 ||
    (parsed[0] !== 'after' && parsed[0] !== 'before') ||
    (typeof parsed[1] !== 'string' && typeof parsed[1] !== 'number') ||
    typeof parsed[2] !== 'string' ||
    parsed[3] !== sort ||
    hasNul(parsed[2]) ||
    (typeof parsed[1] === 'string' && hasNul(parsed[1])) ||
    (valueType === 'string' && typeof parsed[1] !== 'string') ||
    (valueType === 'integer' && !Number.isSafeInteger(parsed[1]))
  ) {
    throw validationError('cursor', 'is not a valid cursor');
  }
  return { direction: parsed[0], value: parsed[1], id: parsed[2], sort };
}

/**
 * Builds the page answer from rows fetched with `limit + 1` in the cursor's direction
 * (already put back in display order by the caller is NOT assumed: pass them as fetched).
 */
export function buildPage<T extends { id: string }>(
  fetched: T[],
  request: PageRequest,
  sort: string,
  sortValue: (row: T) => string | number,
  total: number,
): { data: T[]; nextCursor: string | null; prevCursor: string | null; total: number } {
  const backwards = request.cursor?.direction === 'before';
  const hasMore = fetched.length > request.limit;
  const rows = fetched.slice(0, request.limit);
  if (backwards) rows.reverse();
  const first = rows[0];
  const last = rows[rows.length - 1];
  const hasNext = backwards ? true : hasMore;
  const hasPrev = backwards ? hasMore : request.cursor !== null;
  return {
    data: rows,
    nextCursor:
      hasNext && last
        ? encodeCursor({ direction: 'after', value: sortValue(last), id: last.id, sort })
        : null,
    prevCursor:
      hasPrev && first
        ? encodeCursor({ direction: 'before', value: sortValue(first), id: first.id, sort })
        : null,
    total,
  };
}
