import { describe, expect, it } from 'vitest';
import de from '../../../i18n/de.json';
import en from '../../../i18n/en.json';
import { checkUrl, WEBHOOK_EVENTS } from '.';

describe('checkUrl', () => {
  it('accepts http and https URLs, loopback and private hosts included', () => {
    for (const url of ['https://example.com/keysmith', 'http://127.0.0.1:8080/hook', 'http://10.0.0.5/x', '  https://hooks.example.com  ']) expect(checkUrl(url)).toBeNull();
  });

  it('names what is wrong with the others', () => {
    expect(checkUrl('   ')).toBe('required');
    expect(checkUrl('example.com/hook')).toBe('invalid');
    expect(checkUrl('ftp://example.com/hook')).toBe('scheme');
    expect(checkUrl('javascript:alert(1)')).toBe('scheme');
    expect(checkUrl('https://user:pw@example.com/hook')).toBe('credentials');
    expect(checkUrl(`https://example.com/${'a'.repeat(2048)}`)).toBe('tooLong');
  });
});

describe('event labels', () => {
  it('names every webhook event in English and German', () => {
    const label = (dict: object, type: string) => type.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown> | undefined)?.[p], (dict as { eventTypes: object }).eventTypes);
    for (const type of WEBHOOK_EVENTS) {
      expect(typeof label(en, type), `en ${type}`).toBe('string');
      expect(typeof label(de, type), `de ${type}`).toBe('string');
    }
  });
});
