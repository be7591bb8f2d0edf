/**
 * Where webhooks may be sent. Loopback and private networks are allowed (self-hosters deliver to
 * their own network); link-local addresses and the cloud metadata services are refused, so a
 * webhook can never be pointed at the instance's cloud credentials (SSRF).
 */

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Host names of metadata services, refused whatever they resolve to. */
const REFUSED_HOSTNAMES = new Set(['metadata.google.internal', 'metadata.goog']);

/** Parses a dotted IPv4 address into 4 bytes, or null. */
function parseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    bytes.push(n);
  }
  return bytes;
}

/** Parses an IPv6 address (with `::` and an optional trailing dotted IPv4) into 16 bytes, or null. */
function parseIPv6(input: string): number[] | null {
  let text = input;
  // A zone (fe80::1%eth0) names an interface, not another address.
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  if (!text.includes(':')) return null;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = parseIPv4(last);
    if (!v4) return null;
    tail = v4;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0] ?? '');
  const rest = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  const bytes: number[] = [];
  for (const group of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    const n = parseInt(group, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

function refusedIPv4(b: number[]): string | null {
  // 169.254.0.0/16: link-local, which holds 169.254.169.254 (AWS, Azure, GCP, Oracle… metadata).
  if (b[0] === 169 && b[1] === 254) return b[2] === 169 && b[3] === 254 ? 'a cloud metadata address' : 'a link-local address';
  // Alibaba Cloud's metadata service.
  if (b[0] === 100 && b[1] === 100 && b[2] === 100 && b[3] === 200) return 'a cloud metadata address';
  return null;
}

function refusedIPv6(b: number[]): string | null {
  // fe80::/10: link-local.
  if (b[0] === 0xfe && ((b[1] as number) & 0xc0) === 0x80) return 'a link-local address';
  // fd00:ec2::254: the AWS metadata service over IPv6.
  const awsMetadata = [0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54];
  if (awsMetadata.every((byte, i) => b[i] === byte)) return 'a cloud metadata address';
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  // IPv4 inside IPv6 reaches the IPv4 address: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d),
  // and NAT64 (64:ff9b::a.b.c.d).
  const mapped = zeros(0, 10) && b[10] === 0xff && b[11] === 0xff;
  const compatible = zeros(0, 12);
  const nat64 = b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12);
  if (mapped || compatible || nat64) return refusedIPv4(b.slice(12));
  return null;
}

/** Whether `text` is an IP address literal (v4 or v6), without brackets. */
export function isIpLiteral(text: string): boolean {
  return parseIPv4(text) !== null || parseIPv6(text) !== null;
}

/**
 * Why a webhook may not be sent to this resolved address (a link-local or metadata address), or
 * null when it may. Checked at creation for literal hosts and again for every address DNS returns
 * at send time, so a name cannot be re-pointed at the metadata service later.
 */
export function refusedAddressReason(address: string): string | null {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const v4 = parseIPv4(text);
  if (v4) return refusedIPv4(v4);
  const v6 = parseIPv6(text);
  if (v6) return refusedIPv6(v6);
  return null;
}

/** Why a webhook may not be sent to this host name, or null. */
export function refusedHostnameReason(hostname: string): string | null {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (REFUSED_HOSTNAMES.has(name)) return 'a cloud metadata host';
  return refusedAddressReason(name);
}

export type WebhookUrlCheck = { ok: true; url: string } | { ok: false; message: string };

/**
 * Checks a webhook URL: http or https, no credentials in it, a host that is neither link-local
 * nor a metadata service. Returns the URL as the WHATWG parser normalises it (so `0xA9.0xFE.…`
 * is stored, and checked, as `169.254.…`).
 */
export function checkWebhookUrl(input: string): WebhookUrlCheck {
  if (input.length > MAX_WEBHOOK_URL_LENGTH) return { ok: false, message: `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { ok: false, message: 'is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, message: 'must be an http or https URL' };
  if (url.username !== '' || url.password !== '') return { ok: false, message: 'must not contain a user name or password' };
  if (url.hostname === '') return { ok: false, message: 'must name a host' };
  const reason = refusedHostnameReason(url.hostname);
  if (reason) return { ok: false, message: `must not point at ${reason}` };
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) return { ok: false, message: `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters` };
  return { ok: true, url: url.href };
}
