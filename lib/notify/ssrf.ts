import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction, Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { WebhookTargetRefusedError } from '../errors.ts';

/**
 * The SSRF guard for outbound webhooks: a webhook URL is chosen by the caller, so without a guard the service
 * would POST wherever it is told, the cloud's metadata service and the VPC's private hosts included (OWASP SSRF
 * Prevention Cheat Sheet,
 * https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html).
 *
 * The address is judged where it cannot change any more: on every connection attempt, after DNS. A check of the
 * URL alone is defeated by DNS rebinding (a name that answers a public address to the check and a private one to
 * the connect), so the guard sits in undici's connector: its `lookup` resolves every address of the name and
 * refuses the connection if any one is refused, and Node connects to the addresses it answered, with no second
 * resolution. The connected socket's `remoteAddress` is then checked again, which also covers IP-literal hosts
 * (Node skips `lookup` for them). undici, not an `http.Agent` library (request-filtering-agent and the like),
 * because undici takes no `http.Agent`: its `connect` option is the one place to stand.
 */

export { WEBHOOK_TARGET_REFUSED, WebhookTargetRefusedError } from '../errors.ts';

/**
 * The only IPv6 space IANA has allocated to global unicast (IANA IPv6 Address Space,
 * https://www.iana.org/assignments/ipv6-address-space/). ipaddr.js calls every address it has no name for
 * 'unicast', so `::7f00:1` (the IPv4-compatible form of 127.0.0.1, written in hex) or unallocated `4000::1` would
 * pass on `range()` alone.
 */
const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

/**
 * `::a.b.c.d`: the IPv4-compatible form (deprecated, RFC 4291 §2.5.5.1, https://www.rfc-editor.org/rfc/rfc4291).
 * ipaddr.js parses this text as the IPv4-mapped `::ffff:a.b.c.d` and would judge the embedded IPv4 address, but
 * it is a different address, outside 2000::/3; libuv also prints IPv4-compatible addresses this way.
 */
const IPV4_COMPATIBLE_TEXT = /^::\d{1,3}(?:\.\d{1,3}){3}(?:%.*)?$/;

/**
 * Why an IP address is not a webhook target, or undefined when it is public unicast. The reason is ipaddr.js's
 * `range()` (IANA's special-purpose registries,
 * https://www.iana.org/assignments/iana-ipv4-special-registry/ and
 * https://www.iana.org/assignments/iana-ipv6-special-registry/): 'unspecified' (0.0.0.0/8, ::), 'loopback'
 * (127/8, ::1), 'private' (10/8, 172.16/12, 192.168/16), 'linkLocal' (169.254/16 with the metadata service
 * 169.254.169.254, fe80::/10), 'carrierGradeNat' (100.64/10), 'multicast' (224/4, ff00::/8), 'broadcast',
 * 'reserved' (240/4, 192.0.0/24, 198.18/15 benchmarking, and the documentation ranges 192.0.2/24, 198.51.100/24,
 * 203.0.113/24, 2001:db8::/32: not routable on the Internet, so never a real receiver), 'uniqueLocal'
 * (fc00::/7, with AWS's IPv6 metadata address fd00:ec2::254), 'rfc6052' (NAT64), '6to4', 'teredo' and the rest
 * of IPv6's named blocks. An IPv4-mapped address (::ffff:a.b.c.d) is judged by its IPv4 address. Explicit checks
 * where ipaddr.js's ranges are not enough: 'invalid', 'ipv4Compatible', 'notGlobalUnicast', 'scoped'.
 */
export function addressRefusal(ip: string): string | undefined {
  // ipaddr.js also accepts inet_aton's shorthands (`127.1`, `2130706433`), which sockets and resolvers never
  // report: judge only what Node itself takes for an IP address, and refuse anything else.
  if (isIP(ip) === 0) return 'invalid';
  if (IPV4_COMPATIBLE_TEXT.test(ip)) return 'ipv4Compatible';
  // process() turns ::ffff:a.b.c.d into a.b.c.d: an IPv4-mapped address reaches the IPv4 host on a dual-stack
  // socket, so it is that host that must be public.
  const address = ipaddr.process(ip);
  const range = address.range();
  if (range !== 'unicast') return range;
  if (address.kind() === 'ipv6') {
    if (!address.match(IPV6_GLOBAL_UNICAST)) return 'notGlobalUnicast';
    // A zone only means something for a non-global scope: a "global" address with one is not what it says.
    if (ip.includes('%')) return 'scoped';
  }
  return undefined;
}

/** The error for a refused address, in one wording. */
function refusedAddress(
  reason: string,
  address: string,
  host: string | undefined,
): WebhookTargetRefusedError {
  const where = host === undefined || host === address ? address : `${host} (${address})`;
  return new WebhookTargetRefusedError(
    reason,
    `webhook target ${where} is refused: ${reason} address, not public unicast`,
    { address, ...(host === undefined ? {} : { host }) },
  );
}

/** `[::1]` (URL.hostname's IPv6 form) → `::1`; any other host unchanged. */
const unbracket = (hostname: string) =>
  hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;

/**
 * Validates a webhook URL before sending: http: or https: only, no credentials, and an IP-literal host checked
 * at once (unless `allowPrivate`). A host name is checked at connect time, by the dispatcher. Throws
 * WebhookTargetRefusedError.
 */
export function checkTargetUrl(url: string, options: { allowPrivate: boolean }): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new WebhookTargetRefusedError('invalidUrl', 'webhook target is not a valid URL', { cause });
  }
  const host = unbracket(parsed.hostname);
  // Other schemes (file:, gopher:, ftp:) reach what HTTP cannot; OWASP's cheat sheet allows only what is needed.
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new WebhookTargetRefusedError(
      'scheme',
      `webhook target ${host || '(no host)'} is refused: only http: and https: are allowed, not ${parsed.protocol}`,
      { host },
    );
  }
  // Credentials in a URL are a secret stored and logged in the clear, and `https://trusted@evil/` is the classic
  // way to make a URL look like it points somewhere it does not.
  if (parsed.username !== '' || parsed.password !== '') {
    throw new WebhookTargetRefusedError(
      'credentials',
      `webhook target ${host} is refused: credentials in the URL are not allowed`,
      { host },
    );
  }
  // new URL() has already normalised the IPv4 spellings that fool a naive check (`2130706433`, `0x7f.1`,
  // `127.1` → 127.0.0.1) and IPv6's (`[::ffff:127.0.0.1]` → `[::ffff:7f00:1]`).
  if (!options.allowPrivate && isIP(host) !== 0) {
    const reason = addressRefusal(host);
    if (reason !== undefined) throw refusedAddress(reason, host, undefined);
  }
  return parsed;
}

/**
 * Wraps a `lookup` (node:dns's by default) for net.connect: resolves every address of the name, refuses the
 * whole connection when any one is refused (fail closed: a name is not half trusted), and otherwise answers the
 * checked addresses themselves, so Node connects to what was checked without resolving again.
 */
export function guardLookup(lookup: LookupFunction = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, answer, family) => {
      if (error) {
        callback(error, options.all ? [] : '');
        return;
      }
      // A lookup that ignores `all` answers one address; judge whatever it gave.
      const addresses: LookupAddress[] =
        typeof answer === 'string' ? [{ address: answer, family: family ?? isIP(answer) }] : answer;
      const first = addresses[0];
      if (first === undefined) {
        const empty = Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND', hostname });
        callback(empty, options.all ? [] : '');
        return;
      }
      for (const { address } of addresses) {
        const reason = addressRefusal(address);
        if (reason !== undefined) {
          callback(refusedAddress(reason, address, hostname), options.all ? [] : '');
          return;
        }
      }
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

/** Why the connected socket's peer is refused, or undefined when it is public unicast. */
function peerRefusal(socket: Socket, host: string): WebhookTargetRefusedError | undefined {
  const address = socket.remoteAddress;
  if (address === undefined) {
    // A socket whose peer cannot be read (already closed) is not handed on unchecked.
    return new WebhookTargetRefusedError(
      'unknownPeer',
      `webhook target ${host} is refused: the connected address could not be checked`,
      { host },
    );
  }
  const reason = addressRefusal(address);
  return reason === undefined ? undefined : refusedAddress(reason, address, host);
}

/**
 * Wraps an undici connector with the address checks that do not depend on DNS: an IP-literal host is refused
 * before any packet is sent, and the connected socket's `remoteAddress` is checked on TCP connect (before a TLS
 * handshake starts) and again before the socket is handed to undici. A refused socket is destroyed.
 */
export function guardConnector(connector: buildConnector.connector): buildConnector.connector {
  return (options, callback): Socket | undefined => {
    if (isIP(options.hostname) !== 0) {
      const reason = addressRefusal(options.hostname);
      if (reason !== undefined) {
        const refused = refusedAddress(reason, options.hostname, undefined);
        process.nextTick(() => callback(refused, null));
        return undefined;
      }
    }
    let refusal: WebhookTargetRefusedError | undefined;
    // undici's own connector returns the socket (its types say void); another connector may return nothing.
    const connecting: unknown = connector(options, (error, socket) => {
      if (refusal !== undefined) {
        socket?.destroy();
        callback(refusal, null);
      } else if (error !== null) {
        callback(error, null);
      } else {
        const late = peerRefusal(socket, options.hostname);
        if (late === undefined) {
          callback(null, socket);
        } else {
          socket.destroy(late);
          callback(late, null);
        }
      }
    });
    if (!(connecting instanceof Socket)) return undefined;
    // First among the 'connect' listeners: ahead of TLS's handshake and of undici's own, so a refused peer gets
    // no ClientHello and no request. Destroying it here makes undici's callback above report the refusal.
    connecting.prependOnceListener('connect', () => {
      refusal = peerRefusal(connecting, options.hostname);
      if (refusal !== undefined) connecting.destroy(refusal);
    });
    return connecting;
  };
}

export interface GuardedDispatcherOptions {
  /** WEBHOOK_ALLOW_PRIVATE: no address checks, for a receiver on loopback in local development. */
  allowPrivate: boolean;
  /** Resolves host names (node:dns's lookup by default); injected in tests. */
  lookup?: LookupFunction;
  /** How long a TCP (and TLS) connect may take; undici's default, 10 s, when unset. */
  connectTimeoutMs?: number;
  /** The most connections per origin; unlimited when unset. */
  connections?: number;
}

/**
 * An undici Agent (one keep-alive Pool per origin) whose every connection passes the guard: guarded DNS, an
 * IP-literal check, and the connected peer's address. It follows no redirects (undici's request() does not).
 */
export function createGuardedDispatcher(options: GuardedDispatcherOptions): Dispatcher {
  const lookup = options.lookup ?? dnsLookup;
  const connector = buildConnector({
    lookup: options.allowPrivate ? lookup : guardLookup(lookup),
    timeout: options.connectTimeoutMs ?? 10_000,
  });
  return new Agent({
    connect: options.allowPrivate ? connector : guardConnector(connector),
    ...(options.connections === undefined ? {} : { connections: options.connections }),
  });
}
