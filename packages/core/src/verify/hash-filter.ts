/**
 * A Bloom filter over key hashes (SHA-256 hex): `mightContain` is false only for a hash that was
 * never added, so a flood of unknown keys is answered without a database lookup. False
 * positives (about 1 % at capacity) just cost the lookup that would have happened anyway.
 */
export function createHashFilter(capacity: number, falsePositiveRate = 0.01) {
  const n = Math.max(1024, capacity);
  const bits = Math.ceil((-n * Math.log(falsePositiveRate)) / Math.LN2 ** 2);
  const k = Math.max(1, Math.round((bits / n) * Math.LN2));
  const words = new Uint32Array(Math.ceil(bits / 32));
  let count = 0;

  // The hash is uniformly random already: two 32-bit slices of it drive double hashing.
  return {
    add(hash: string): void {
      const h1 = Number.parseInt(hash.slice(0, 8), 16) >>> 0;
      const h2 = (Number.parseInt(hash.slice(8, 16), 16) | 1) >>> 0;
      for (let i = 0; i < k; i += 1) {
        const bit = ((h1 + Math.imul(i, h2)) >>> 0) % bits;
        words[bit >>> 5] = (words[bit >>> 5] as number) | (1 << (bit & 31));
      }
      count += 1;
    },
    mightContain(hash: string): boolean {
      const h1 = Number.parseInt(hash.slice(0, 8), 16) >>> 0;
      const h2 = (Number.parseInt(hash.slice(8, 16), 16) | 1) >>> 0;
      for (let i = 0; i < k; i += 1) {
        const bit = ((h1 + Math.imul(i, h2)) >>> 0) % bits;
        if (((words[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
      }
      return true;
    },
    get count() {
      return count;
    },
    capacity: n,
    bytes: words.byteLength,
  };
}

export type HashFilter = ReturnType<typeof createHashFilter>;
