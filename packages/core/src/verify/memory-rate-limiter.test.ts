import { describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from './memory-rate-limiter';

// A time on a minute boundary, so that 60-second windows start here.
const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
const setting = { limit: 3, windowSeconds: 60 };

describe('memory rate limiter', () => {
  it('allows `limit` requests in a window and refuses the next ones', async () => {
    const limiter = createMemoryRateLimiter();
    const results = [];
    for (let i = 0; i < 5; i += 1) results.push(await limiter.hit('key_1', setting, T0 + i * 1000));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
  });

  it('counts down what remains, never below zero', async () => {
    const limiter = createMemoryRateLimiter();
    const remaining = [];
    for (let i = 0; i < 5; i += 1) remaining.push((await limiter.hit('key_1', setting, T0)).remaining);
    expect(remaining).toEqual([2, 1, 0, 0, 0]);
  });

  it('says the window resets at its end, aligned to multiples of the window', async () => {
    const limiter = createMemoryRateLimiter();
    expect((await limiter.hit('key_1', setting, T0 + 12_345)).resetAt).toBe(T0 + 60_000);
    expect((await limiter.hit('key_1', setting, T0 + 59_999)).resetAt).toBe(T0 + 60_000);
    expect((await limiter.hit('key_1', setting, T0 + 60_000)).resetAt).toBe(T0 + 120_000);
  });

  it('starts afresh in the next window', async () => {
    const limiter = createMemoryRateLimiter();
    for (let i = 0; i < 4; i += 1) await limiter.hit('key_1', setting, T0 + 1000);
    expect((await limiter.hit('key_1', setting, T0 + 59_999)).allowed).toBe(false);
    const next = await limiter.hit('key_1', setting, T0 + 60_000);
    expect(next).toEqual({ allowed: true, remaining: 2, resetAt: T0 + 120_000 });
  });

  it('counts each key on its own', async () => {
    const limiter = createMemoryRateLimiter();
    for (let i = 0; i < 3; i += 1) await limiter.hit('key_1', setting, T0);
    expect((await limiter.hit('key_1', setting, T0)).allowed).toBe(false);
    expect(await limiter.hit('key_2', setting, T0)).toEqual({ allowed: true, remaining: 2, resetAt: T0 + 60_000 });
  });

  it('allows exactly one request per window with a limit of 1', async () => {
    const limiter = createMemoryRateLimiter();
    const one = { limit: 1, windowSeconds: 1 };
    expect(await limiter.hit('key_1', one, T0)).toEqual({ allowed: true, remaining: 0, resetAt: T0 + 1000 });
    expect(await limiter.hit('key_1', one, T0 + 999)).toEqual({ allowed: false, remaining: 0, resetAt: T0 + 1000 });
    expect((await limiter.hit('key_1', one, T0 + 1000)).allowed).toBe(true);
  });

  it('forgets the oldest keys beyond its capacity, but keeps counting the recent ones', async () => {
    const limiter = createMemoryRateLimiter(2);
    for (let i = 0; i < 3; i += 1) await limiter.hit('key_a', setting, T0);
    for (let i = 0; i < 3; i += 1) await limiter.hit('key_b', setting, T0);
    await limiter.hit('key_c', setting, T0); // pushes key_a out
    expect((await limiter.hit('key_b', setting, T0)).allowed).toBe(false);
    expect((await limiter.hit('key_a', setting, T0)).allowed).toBe(true);
  });
});
