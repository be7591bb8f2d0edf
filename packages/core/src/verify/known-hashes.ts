import { createHashFilter, type HashFilter } from './hash-filter';

/**
 * Which key hashes exist, as far as this instance can be sure. It answers "certainly not" only
 * while it is trusted: after a full scan of the database, and only as long as every new hash has
 * reached it (the instance's own creations, and other instances' through the invalidation
 * channel). When the channel drops it stops answering until it has been rebuilt.
 */
export function createKnownHashes(options: { count: () => Promise<number>; scan: (add: (hash: string) => void) => Promise<number>; minCapacity?: number }) {
  let current: HashFilter | null = null;
  let building: HashFilter | null = null;
  let generation = 0;

  return {
    /** False when the hash certainly belongs to no key; true when it may (or when not trusted). */
    mightExist(hash: string): boolean {
      return current === null || current.mightContain(hash);
    },

    /** A hash was created (a key, or a regenerated secret). */
    add(hash: string): void {
      current?.add(hash);
      building?.add(hash);
    },

    /** Stops answering "certainly not" (e.g. hashes may have been missed). */
    distrust(): void {
      generation += 1;
      current = null;
      building = null;
    },

    /** Scans every hash in the database; answers from the new filter once the scan is complete. */
    async rebuild(): Promise<void> {
      generation += 1;
      const mine = generation;
      const filter = createHashFilter(Math.max(options.minCapacity ?? 100_000, (await options.count()) * 2));
      if (mine !== generation) return;
      building = filter;
      await options.scan((hash) => filter.add(hash));
      // A newer rebuild or a distrust since we began wins.
      if (mine !== generation) return;
      building = null;
      current = filter;
    },

    get trusted(): boolean {
      return current !== null;
    },
  };
}

export type KnownHashes = ReturnType<typeof createKnownHashes>;
