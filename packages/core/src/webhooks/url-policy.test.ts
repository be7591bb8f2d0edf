import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, isIpLiteral, refusedAddressReason } from './url-policy';

const refusedMessage = (url: string) => {
  const checked = checkWebhookUrl(url);
  return checked.ok ? null : checked.message;
};

describe('checkWebhookUrl', () => {
  it('accepts http and https URLs, loopback and private networks included', () => {
    for (const url of [
      'https://hooks.example.com/keysmith',
      'http://127.0.0.1:8080/hook',
      'http://localhost:3000/',
      'http://10.0.0.5/in',
      'http://192.168.1.20:9000/x?y=1',
      'http://172.16.0.1/',
      'http://[::1]:8080/hook',
      'http://[fd12:3456::1]/hook',
      'https://169.255.0.1/',
    ]) {
      expect(checkWebhookUrl(url), url).toEqual({ ok: true, url: new URL(url).href });
    }
  });

  it('refuses other schemes', () => {
    for (const url of ['ftp://example.com/x', 'file:///etc/passwd', 'javascript:alert(1)', 'gopher://example.com/', 'ws://example.com/']) {
      expect(refusedMessage(url), url).toBe('must be an http or https URL');
    }
  });

  it('refuses what is not a URL, and URLs that are too long', () => {
    expect(refusedMessage('not a url')).toBe('is not a valid URL');
    expect(refusedMessage('/relative/path')).toBe('is not a valid URL');
    expect(refusedMessage(`https://example.com/${'a'.repeat(2048)}`)).toMatch(/at most 2048/);
  });

  it('refuses a user name or password in the URL', () => {
    for (const url of ['https://user:pass@example.com/', 'https://user@example.com/', 'http://:secret@127.0.0.1/']) {
      expect(refusedMessage(url), url).toBe('must not contain a user name or password');
    }
  });

  it('refuses link-local addresses and cloud metadata hosts, however the address is written', () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.0.1/',
      'http://169.254.255.255:8080/',
      // The WHATWG parser reads these as 169.254.169.254.
      'http://0xA9.0xFE.0xA9.0xFE/',
      'http://2852039166/',
      'http://0251.0376.0251.0376/',
      'http://169.254.43518/',
      'http://[fe80::1]/',
      'http://[FE80::abcd:1]:80/',
      'http://[febf::1]/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[64:ff9b::169.254.169.254]/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://METADATA.Google.Internal./',
      'http://metadata.goog/',
      'http://100.100.100.200/latest/meta-data/',
    ]) {
      expect(refusedMessage(url), url).toMatch(/^must not point at (a link-local address|a cloud metadata (address|host))$/);
    }
  });
});

describe('refusedAddressReason', () => {
  it('names link-local and metadata addresses, and lets every other address through', () => {
    expect(refusedAddressReason('169.254.169.254')).toBe('a cloud metadata address');
    expect(refusedAddressReason('169.254.1.1')).toBe('a link-local address');
    expect(refusedAddressReason('fe80::1')).toBe('a link-local address');
    expect(refusedAddressReason('fe80::1%eth0')).toBe('a link-local address');
    expect(refusedAddressReason('fd00:ec2::254')).toBe('a cloud metadata address');
    expect(refusedAddressReason('fd00:ec2:0:0:0:0:0:254')).toBe('a cloud metadata address');
    expect(refusedAddressReason('::ffff:169.254.169.254')).toBe('a cloud metadata address');
    for (const allowed of ['127.0.0.1', '::1', '10.1.2.3', '192.168.0.1', '8.8.8.8', 'fec0::1', 'fd00:ec2::253', '2001:db8::1', '::ffff:127.0.0.1', '0.0.0.0', '::']) {
      expect(refusedAddressReason(allowed), allowed).toBeNull();
    }
  });

  it('tells IP literals from names', () => {
    expect(isIpLiteral('10.0.0.1')).toBe(true);
    expect(isIpLiteral('::1')).toBe(true);
    expect(isIpLiteral('1:2:3:4:5:6:7:8')).toBe(true);
    for (const text of ['example.com', '1.2.3', '1.2.3.256', '1:2:3:4:5:6:7:8:9', '1::2::3', 'fe80::g']) expect(isIpLiteral(text), text).toBe(false);
  });
});
