import { isIPv4, isIPv6 } from 'node:net';

/** The IPv4 address itself, when `address` is one (also when mapped into IPv6); undefined otherwise. */
export function ipv4Of(address: string): string | undefined {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
  return isIPv4(v4) ? v4 : undefined;
}

/**
 * An IPv6 address's /64 (`2001:db8:0:1::/64`), undefined for anything else:
 * one subscriber gets a whole /64 and can use any address in it, so limits
 * count it as one sender.
 */
export function ipv6Network(address: string): string | undefined {
  const plain = address.replace(/%.*$/, '');
  if (!isIPv6(plain)) return undefined;
  const [before = '', after] = plain.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const head = groups(before);
  const tail = after === undefined ? [] : groups(after);
  // A dotted IPv4 tail holds two groups, and is never among the first four.
  const given = head.length + tail.length + (tail.at(-1)?.includes('.') ? 1 : 0);
  const full = [...head, ...Array<string>(8 - given).fill('0'), ...tail];
  return `${full
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * The network an address belongs to for the limits on password checks: its
 * /24 for IPv4 (IPv4-mapped IPv6 included), its /64 for IPv6. Anything else
 * (a Unix socket has no address) is its own network.
 */
export function networkOf(address: string): string {
  const v4 = ipv4Of(address.replace(/%.*$/, ''));
  if (v4) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  return ipv6Network(address) ?? address;
}

export interface CheckLimitsOptions {
  perAddress: number;
  perNetwork: number;
  inAll: number;
}

const add = (counts: Map<string, number>, key: string, change: number): void => {
  const count = (counts.get(key) ?? 0) + change;
  if (count > 0) counts.set(key, count);
  else counts.delete(key);
};

/**
 * Counts the password checks waiting or running for logins the server has
 * not seen succeed lately, per address, per network and in all, and refuses
 * one more beyond a limit: a flood from fresh addresses (an IPv6 network
 * has billions) then costs the server no more than a bounded queue.
 */
export class CheckLimits {
  private readonly perAddress = new Map<string, number>();
  private readonly perNetwork = new Map<string, number>();
  private inAll = 0;

  constructor(private readonly limits: CheckLimitsOptions) {}

  /** A place for one check from `address`, with the function that gives it back; or, without a place, why in words. */
  take(address: string): { release: () => void } | { refusal: string } {
    const network = networkOf(address);
    const later = 'this login was not checked: try again in a minute';
    if ((this.perAddress.get(address) ?? 0) >= this.limits.perAddress) {
      return { refusal: `too many logins from your address are waiting for a password check; ${later}` };
    }
    if ((this.perNetwork.get(network) ?? 0) >= this.limits.perNetwork) {
      return { refusal: `too many logins from your network (${network}) are waiting for a password check; ${later}` };
    }
    if (this.inAll >= this.limits.inAll) return { refusal: `too many logins are waiting for a password check; ${later}` };
    add(this.perAddress, address, 1);
    add(this.perNetwork, network, 1);
    this.inAll++;
    return {
      release: () => {
        add(this.perAddress, address, -1);
        add(this.perNetwork, network, -1);
        this.inAll--;
      },
    };
  }
}
