/**
 * Rules for URLs that the platform will fetch on a customer's behalf (HTTP tools, knowledge-base
 * web sources, webhook endpoints). A customer-supplied URL must not turn the worker into a proxy
 * into private networks or cloud metadata services (SSRF), and must not carry secrets, which
 * would then show up in logs, tool listings and call records.
 *
 * This is a syntactic check of the URL as written. It cannot see what a public name resolves to,
 * so the code that fetches must still refuse redirects it has not re-validated.
 */

export interface UrlPolicy {
  /**
   * Admit loopback targets (127.0.0.1, localhost, ::1), over http or https. Only for dev and tests,
   * where tools and fakes run on this machine (SIMULATOR_ENABLED).
   */
  allowLoopback: boolean;
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

export const MAX_URL_LENGTH = 2048;

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Names that only resolve inside a private network or on the machine itself. */
const INTERNAL_SUFFIXES = ["localhost", "local", "internal", "localdomain", "home.arpa", "lan", "intranet", "corp"];

/** Compared after lowercasing and dropping `-` and `_`, so `api_key`, `Api-Key` and `apikey` are one name. */
const SECRET_PARAM_NAMES = new Set(["key", "token", "auth", "passwd", "pwd"]);
const SECRET_PARAM_SUFFIXES = ["apikey", "secret", "password", "accesstoken", "authtoken"];

function isSecretParam(name: string): boolean {
  const normal = name.toLowerCase().replace(/[-_]/g, "");
  return SECRET_PARAM_NAMES.has(normal) || SECRET_PARAM_SUFFIXES.some((suffix) => normal.endsWith(suffix));
}

/** [first address, prefix length] pairs of IPv4 ranges that are not publicly routable. */
const NON_PUBLIC_V4: [string, number][] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, including cloud metadata at 169.254.169.254
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, including broadcast
];

function ipv4ToNumber(address: string): number | undefined {
  const parts = address.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function isPublicIpv4(value: number): boolean {
  return NON_PUBLIC_V4.every(([base, bits]) => {
    const size = 2 ** (32 - bits);
    const start = ipv4ToNumber(base)!;
    return value < start || value >= start + size;
  });
}

/** The eight 16-bit groups of an IPv6 address written without brackets, or undefined if malformed. */
function parseIpv6(address: string): number[] | undefined {
  let text = address;
  const tail: number[] = [];
  const dotted = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = ipv4ToNumber(dotted[2]);
    if (v4 === undefined) return undefined;
    tail.push(Math.floor(v4 / 65536), v4 % 65536);
    text = dotted[1].endsWith("::") ? dotted[1] : dotted[1].slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const explicit = head.length + rest.length + tail.length;
  if (head.some(Number.isNaN) || rest.some(Number.isNaN)) return undefined;
  if (halves.length === 1 && explicit !== 8) return undefined;
  if (halves.length === 2 && explicit > 7) return undefined;
  return [...head, ...Array<number>(8 - explicit).fill(0), ...rest, ...tail];
}

function isPublicIpv6(groups: number[]): boolean {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups;
  const embeddedV4 = g6 * 65536 + g7;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d) reach the IPv4 address.
  if (upperZero && (g5 === 0xffff || g5 === 0)) return embeddedV4 > 1 && isPublicIpv4(embeddedV4);
  // NAT64 (64:ff9b::/96) also reaches the embedded IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return isPublicIpv4(embeddedV4);
  // 6to4 (2002::/16) carries an IPv4 address in the next 32 bits.
  if (g0 === 0x2002) return isPublicIpv4(g1 * 65536 + g2);
  // Only global unicast (2000::/3) is public; of it, Teredo, ORCHID and documentation are not.
  if ((g0 & 0xe000) !== 0x2000) return false;
  if (g0 === 0x2001 && (g1 === 0 || (g1 & 0xfff0) === 0x10 || g1 === 0xdb8)) return false;
  return true;
}

function isInternalName(hostname: string): boolean {
  if (!hostname.includes(".")) return true;
  return INTERNAL_SUFFIXES.some((suffix) => hostname === suffix || hostname.endsWith(`.${suffix}`));
}

/**
 * Checks one customer-supplied URL:
 * - absolute, https (http only for loopback, and loopback only when the policy admits it);
 * - no private, loopback, link-local or otherwise non-public IP literal, in any spelling the URL
 *   parser accepts (`0x7f.1`, `2130706433` and `[::ffff:127.0.0.1]` are all 127.0.0.1);
 * - no `localhost`, `*.internal`, `*.local` or single-label host names;
 * - no credentials (`user:pass@`) and no secret-looking query parameters (`api_key`, `token`, …).
 */
export function checkOutboundUrl(raw: string, policy: UrlPolicy): UrlCheck {
  if (raw.length > MAX_URL_LENGTH) return { ok: false, reason: `Must be at most ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, reason: "Must be an absolute URL such as https://api.example.com/orders" };
  }
  const hostname = url.hostname.replace(/\.$/, "");
  const loopback = LOOPBACK_HOSTS.has(hostname);

  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback && policy.allowLoopback)) {
    return { ok: false, reason: "Must use https" };
  }
  if (url.username || url.password) {
    return { ok: false, reason: "Secrets must not be embedded in the URL: remove the user:password@ part" };
  }
  for (const name of url.searchParams.keys()) {
    if (isSecretParam(name)) {
      return { ok: false, reason: `Secrets must not be embedded in the URL: remove the query parameter "${name}"` };
    }
  }
  if (loopback) {
    return policy.allowLoopback ? { ok: true, url } : { ok: false, reason: "Must not target a loopback address or localhost" };
  }

  const v4 = ipv4ToNumber(hostname);
  if (v4 !== undefined) {
    return isPublicIpv4(v4) ? { ok: true, url } : { ok: false, reason: "Must not target a private, loopback or link-local address" };
  }
  if (hostname.startsWith("[")) {
    const groups = parseIpv6(hostname.slice(1, -1));
    return groups && isPublicIpv6(groups)
      ? { ok: true, url }
      : { ok: false, reason: "Must not target a private, loopback or link-local address" };
  }
  if (isInternalName(hostname)) {
    return { ok: false, reason: "Must be a public host name, not localhost, *.internal, *.local or a single-label name" };
  }
  return { ok: true, url };
}

/** The policy of a deployment: loopback targets exist only where the simulator runs. */
export function urlPolicyFor(env: { SIMULATOR_ENABLED?: string }): UrlPolicy {
  return { allowLoopback: env.SIMULATOR_ENABLED === "true" };
}
