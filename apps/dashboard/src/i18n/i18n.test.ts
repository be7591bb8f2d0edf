import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import de from './de.json';
import en from './en.json';

function keys(obj: object, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => (typeof v === 'object' && v !== null ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !name.includes('.test.') ? [path] : [];
  });
}

describe('translations', () => {
  it('German has exactly the keys of English, none empty', () => {
    expect(keys(de).sort()).toEqual(keys(en).sort());
    for (const k of keys(de)) expect(k.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], de)).not.toBe('');
  });

  it('has the keys the product names', () => {
    for (const k of ['copy-button-aria-label', 'no-key-text', 'generate-key-text', 'regenerate-button-text', 'text-field-label']) expect(keys(en)).toContain(k);
  });

  it('defines every literal key the source passes to t()', () => {
    const all = new Set(keys(en).map((k) => k.replace(/_(one|other)$/, '')));
    const used = sources(join(import.meta.dirname, '..')).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\bt\('([a-zA-Z0-9_.-]+)'/g)].map((m) => m[1] as string));
    expect(used.length).toBeGreaterThan(50);
    expect(used.filter((k) => !all.has(k))).toEqual([]);
  });
});
