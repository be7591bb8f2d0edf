import { describe, expect, it } from 'vitest';
import { networkOf } from './network';

describe('networkOf', () => {
  it('takes the /24 of an IPv4 address', () => {
    expect(networkOf('203.0.113.7')).toBe('203.0.113.0/24');
    expect(networkOf('10.0.0.255')).toBe('10.0.0.0/24');
    expect(networkOf('0.0.0.0')).toBe('0.0.0.0/24');
  });

  it('takes the /48 of an IPv6 address, written canonically', () => {
    const cases: Array<[string, string]> = [
      ['2001:db8:abcd:12::1', '2001:db8:abcd::/48'],
      ['2001:0DB8:ABCD:0012:0000:0000:0000:0001', '2001:db8:abcd::/48'],
      ['2001:db8:abcd:ffff:ffff:ffff:ffff:ffff', '2001:db8:abcd::/48'],
      ['2001:db8::1', '2001:db8::/48'],
      ['2001:db8:0:1::', '2001:db8::/48'],
      ['2001::1', '2001::/48'],
      ['2001:0:1::5', '2001:0:1::/48'],
      ['0:0:1::', '0:0:1::/48'],
      ['::1', '::/48'],
      ['::', '::/48'],
      ['fe80::1:2:3:4', 'fe80::/48'],
      ['1:2:3:4:5:6:7::', '1:2:3::/48'],
      ['1:2::3:4:5:1.2.3.4', '1:2::/48'],
      ['64:ff9b::192.0.2.33', '64:ff9b::/48'],
    ];
    for (const [ip, network] of cases) expect(networkOf(ip), ip).toBe(network);
  });

  it('takes the IPv4 /24 of an IPv4-mapped IPv6 address', () => {
    expect(networkOf('::ffff:203.0.113.7')).toBe('203.0.113.0/24');
    expect(networkOf('::FFFF:198.51.100.1')).toBe('198.51.100.0/24');
    expect(networkOf('0:0:0:0:0:ffff:192.0.2.1')).toBe('192.0.2.0/24');
  });

  it('gives every address of one network the same network, and another network another', () => {
    expect(networkOf('2001:db8:abcd:1::1')).toBe(networkOf('2001:db8:abcd:2::2'));
    expect(networkOf('2001:db8:abcd::1')).not.toBe(networkOf('2001:db8:abce::1'));
    expect(networkOf('198.51.100.1')).toBe(networkOf('198.51.100.254'));
    expect(networkOf('198.51.100.1')).not.toBe(networkOf('198.51.101.1'));
  });
});
