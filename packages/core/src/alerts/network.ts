/**
 * The network of an IP literal already validated as IPv4 or IPv6: its /24 for IPv4 (and for
 * IPv4-mapped IPv6, `::ffff:a.b.c.d`), its /48 for IPv6, written canonically (RFC 5952: lower
 * case, no leading zeros, the zero run as `::`). `2001:db8:abcd:12::1` → `2001:db8:abcd::/48`.
 */
export function networkOf(ip: string): string {
  if (ip.indexOf(':') === -1) return `${ip.slice(0, ip.lastIndexOf('.'))}.0/24`;
  return ipv6Network(ip);
}

/** The /48 of an IPv6 literal: its first three groups, `::` expanded (an IPv4 tail counts as two groups). */
function ipv6Network(ip: string): string {
  const lower = ip.toLowerCase();
  const lastColon = lower.lastIndexOf(':');
  const hasIpv4Tail = lower.indexOf('.', lastColon) !== -1;
  if (hasIpv4Tail && isIpv4Mapped(lower.slice(0, lastColon + 1))) return networkOf(lower.slice(lastColon + 1));
  const gap = lower.indexOf('::');
  let head: string[];
  let tail: string[];
  if (gap === -1) {
    head = lower.split(':');
    tail = [];
  } else {
    const before = lower.slice(0, gap);
    const after = lower.slice(gap + 2);
    head = before === '' ? [] : before.split(':');
    tail = after === '' ? [] : after.split(':');
  }
  // An IPv4 tail holds the last two groups; only the first three groups matter here.
  const tailGroups = tail.length + (hasIpv4Tail ? 1 : 0);
  const missing = 8 - head.length - (gap === -1 ? (hasIpv4Tail ? 1 : 0) : tailGroups);
  const group = (i: number): number => {
    if (i < head.length) return parseInt(head[i] as string, 16);
    if (i < head.length + missing) return 0;
    const t = tail[i - head.length - missing];
    return t === undefined || t.includes('.') ? 0 : parseInt(t, 16);
  };
  const groups = [group(0), group(1), group(2)];
  // The last five groups are zero, so the zero run that ends the address is always the longest.
  let kept = 3;
  while (kept > 0 && groups[kept - 1] === 0) kept -= 1;
  return `${groups
    .slice(0, kept)
    .map((g) => g.toString(16))
    .join(':')}::/48`;
}

/** Whether the groups before an IPv4 tail say IPv4-mapped (`::ffff:`, in any spelling). */
function isIpv4Mapped(prefix: string): boolean {
  if (prefix === '::ffff:') return true;
  const gap = prefix.indexOf('::');
  const parts = prefix.slice(0, -1).split(':');
  if (gap === -1) return parts.length === 6 && parts.slice(0, 5).every((p) => parseInt(p, 16) === 0) && parseInt(parts[5] as string, 16) === 0xffff;
  // A `::` somewhere: every group but the last must be zero, and the last ffff.
  const groups = parts.filter((p) => p !== '');
  return groups.length >= 1 && parseInt(groups[groups.length - 1] as string, 16) === 0xffff && groups.slice(0, -1).every((p) => parseInt(p, 16) === 0);
}
