import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHashFilter } from './hash-filter';
import { createKnownHashes } from './known-hashes';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('hash filter', () => {
  it('never answers "certainly not" for an added hash, and rarely "maybe" for others', () => {
    const filter = createHashFilter(10_000);
    for (let i = 0; i < 10_000; i += 1) filter.add(sha(`key ${i}`));
    for (let i = 0; i < 10_000; i += 1) expect(filter.mightContain(sha(`key ${i}`))).toBe(true);
    let falsePositives = 0;
    for (let i = 0; i < 20_000; i += 1) if (filter.mightContain(sha(`other ${i}`))) falsePositives += 1;
    expect(falsePositives / 20_000).toBeLessThan(0.02);
  });
});

describe('known hashes', () => {
  it('answers "maybe" until a scan completed, then "certainly not" for unknown hashes', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const known = createKnownHashes({
      count: async () => 1,
      scan: async (add) => {
        add(sha('a'));
        await gate;
        return 1;
      },
    });
    expect(known.mightExist(sha('b'))).toBe(true);
    const rebuilding = known.rebuild();
    await new Promise((r) => setTimeout(r, 5));
    known.add(sha('created during the scan'));
    expect(known.mightExist(sha('b'))).toBe(true);
    release();
    await rebuilding;
    expect(known.trusted).toBe(true);
    expect(known.mightExist(sha('a'))).toBe(true);
    expect(known.mightExist(sha('created during the scan'))).toBe(true);
    expect(known.mightExist(sha('b'))).toBe(false);
  });

  it('stops answering "certainly not" when distrusted, until rebuilt', async () => {
    const known = createKnownHashes({ count: async () => 0, scan: async () => 0 });
    await known.rebuild();
    expect(known.mightExist(sha('x'))).toBe(false);
    known.distrust();
    expect(known.mightExist(sha('x'))).toBe(true);
    await known.rebuild();
    expect(known.mightExist(sha('x'))).toBe(false);
  });
});
