import { describe, expect, it } from 'vitest';
import { KeysmithError } from './errors';
import { buildPage, decodeCursor, encodeCursor, type Cursor } from './pagination';

interface Row {
  id: string;
  n: number;
}

const rows = (...ns: number[]): Row[] => ns.map((n) => ({ id: `row_${n}`, n }));
const sortValue = (row: Row) => row.n;

function expectValidationFailed(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(KeysmithError);
  expect((caught as KeysmithError).code).toBe('VALIDATION_FAILED');
  expect((caught as KeysmithError).details).toEqual([expect.objectContaining({ path: 'cursor' })]);
}

describe('cursors', () => {
  it('decode what they encode, for string and number sort values', () => {
    const cursors: Cursor[] = [
      { direction: 'after', value: 'Zebra ünïcode', id: 'key_1', sort: 'name' },
      { direction: 'before', value: 1_790_000_000_000, id: 'key_2', sort: '-createdAt' },
      { direction: 'after', value: 0, id: 'key_3', sort: 'lastUsedAt' },
    ];
    for (const cursor of cursors) {
      const raw = encodeCursor(cursor);
      expect(raw).toMatch(/^[A-Za-z0-9_-]+$/); // opaque and URL-safe
      expect(decodeCursor(raw, cursor.sort)).toEqual(cursor);
    }
  });

  it('refuses a cursor made for another sort', () => {
    const raw = encodeCursor({ direction: 'after', value: 'x', id: 'key_1', sort: 'name' });
    expectValidationFailed(() => decodeCursor(raw, '-name'));
  });

  it('refuses garbage', () => {
    const base64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const garbage = [
      '',
      'not a cursor',
      '%%%',
      Buffer.from('{not json').toString('base64url'),
      base64({ direction: 'after', value: 1, id: 'x', sort: 'name' }),
      base64(['after', 1, 'x']),
      base64(['sideways', 1, 'x', 'name']),
      base64(['after', { $gt: '' }, 'x', 'name']),
      base64(['after', null, 'x', 'name']),
      base64(['after', 1, 42, 'name']),
      base64(['after', 1, 'x', 'name', 'extra']),
      base64('after'),
      base64(null),
    ];
    for (const raw of garbage) expectValidationFailed(() => decodeCursor(raw, 'name'));
  });

  it('refuses a value of another type than the sort has, and NUL characters', () => {
    const encode = (value: string | number, id = 'key_1') => encodeCursor({ direction: 'after', value, id, sort: 's' });
    expectValidationFailed(() => decodeCursor(encode('1790000000000'), 's', 'integer'));
    expectValidationFailed(() => decodeCursor(encode(1.5), 's', 'integer'));
    expectValidationFailed(() => decodeCursor(encode(2 ** 60), 's', 'integer'));
    expectValidationFailed(() => decodeCursor(encode(42), 's', 'string'));
    expectValidationFailed(() => decodeCursor(encode('a\u0000b'), 's', 'string'));
    expectValidationFailed(() => decodeCursor(encode('a', 'key_\u0000'), 's', 'string'));
    expect(decodeCursor(encode(1_790_000_000_000), 's', 'integer').value).toBe(1_790_000_000_000);
    expect(decodeCursor(encode('Ada'), 's', 'string').value).toBe('Ada');
  });
});

describe('buildPage', () => {
  it('gives the first page a next cursor when there is more, and no previous cursor', () => {
    const page = buildPage(rows(1, 2, 3), { limit: 2, cursor: null }, 'n', sortValue, 10);
    expect(page.data).toEqual(rows(1, 2));
    expect(page.total).toBe(10);
    expect(page.prevCursor).toBeNull();
    expect(decodeCursor(page.nextCursor as string, 'n')).toEqual({ direction: 'after', value: 2, id: 'row_2', sort: 'n' });
  });

  it('gives a single page neither cursor', () => {
    const page = buildPage(rows(1, 2), { limit: 2, cursor: null }, 'n', sortValue, 2);
    expect(page).toEqual({ data: rows(1, 2), nextCursor: null, prevCursor: null, total: 2 });
  });

  it('gives an empty list neither cursor', () => {
    expect(buildPage([], { limit: 20, cursor: null }, 'n', sortValue, 0)).toEqual({ data: [], nextCursor: null, prevCursor: null, total: 0 });
  });

  it('gives a middle page reached forwards both cursors, pointing at its edges', () => {
    const after: Cursor = { direction: 'after', value: 2, id: 'row_2', sort: 'n' };
    const page = buildPage(rows(3, 4, 5), { limit: 2, cursor: after }, 'n', sortValue, 10);
    expect(page.data).toEqual(rows(3, 4));
    expect(decodeCursor(page.nextCursor as string, 'n')).toEqual({ direction: 'after', value: 4, id: 'row_4', sort: 'n' });
    expect(decodeCursor(page.prevCursor as string, 'n')).toEqual({ direction: 'before', value: 3, id: 'row_3', sort: 'n' });
  });

  it('gives the last page reached forwards a previous cursor but no next one', () => {
    const after: Cursor = { direction: 'after', value: 8, id: 'row_8', sort: 'n' };
    const page = buildPage(rows(9, 10), { limit: 2, cursor: after }, 'n', sortValue, 10);
    expect(page.data).toEqual(rows(9, 10));
    expect(page.nextCursor).toBeNull();
    expect(decodeCursor(page.prevCursor as string, 'n')).toEqual({ direction: 'before', value: 9, id: 'row_9', sort: 'n' });
  });

  it('puts rows fetched backwards into display order, with a next cursor and a previous one while more remain', () => {
    // Paging back from row 5 fetches 4, 3, 2 (nearest first, limit + 1 rows).
    const before: Cursor = { direction: 'before', value: 5, id: 'row_5', sort: 'n' };
    const page = buildPage(rows(4, 3, 2), { limit: 2, cursor: before }, 'n', sortValue, 10);
    expect(page.data).toEqual(rows(3, 4));
    expect(decodeCursor(page.nextCursor as string, 'n')).toEqual({ direction: 'after', value: 4, id: 'row_4', sort: 'n' });
    expect(decodeCursor(page.prevCursor as string, 'n')).toEqual({ direction: 'before', value: 3, id: 'row_3', sort: 'n' });
  });

  it('gives the first page reached backwards no previous cursor', () => {
    const before: Cursor = { direction: 'before', value: 3, id: 'row_3', sort: 'n' };
    const page = buildPage(rows(2, 1), { limit: 2, cursor: before }, 'n', sortValue, 10);
    expect(page.data).toEqual(rows(1, 2));
    expect(page.prevCursor).toBeNull();
    expect(decodeCursor(page.nextCursor as string, 'n')).toEqual({ direction: 'after', value: 2, id: 'row_2', sort: 'n' });
  });

  it('makes cursors for the sort it was given, so they are refused under another', () => {
    const page = buildPage(rows(1, 2, 3), { limit: 2, cursor: null }, '-createdAt', sortValue, 3);
    expect(decodeCursor(page.nextCursor as string, '-createdAt').sort).toBe('-createdAt');
    expectValidationFailed(() => decodeCursor(page.nextCursor as string, 'createdAt'));
  });
});
