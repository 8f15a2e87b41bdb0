import { ipv4Of, ipv6Network } from '../../../server/check-limits.js';

/** Wrong codes from one address within this window make its answers slower, then refused. */
const WINDOW_MS = 15 * 60_000;
const REFUSE_AFTER = 20;
const MAX_DELAY_MS = 8_000;

export interface WrongCodeLimits {
  /** Addresses remembered at most; the one whose window began first goes first (4000 addresses once grew the table without end). */
  kept: number;
  /** Wrong codes answered per minute from all addresses together: beyond, refused at once, so many addresses cannot keep the server busy. */
  perMinute: number;
}

const LIMITS: WrongCodeLimits = { kept: 1000, perMinute: 60 };

/** What to do with a wrong code: answer after a delay, or refuse at once (one address, or all together, sent too many). */
export type Verdict = { delayMs: number } | { refused: 'address' | 'everyone' };

/**
 * Who a failure is counted against: an IPv4 address (also when mapped into
 * IPv6), or an IPv6 address's /64, which one household or host usually
 * holds whole and can pick addresses from at will.
 */
export function failureKey(address: string): string {
  return ipv4Of(address) ?? ipv6Network(address) ?? address;
}

/** Wrong set-up codes, counted per address (or /64) and over all addresses, in bounded memory. */
export class WrongCodes {
  /** In the order their windows began: the first is the oldest. */
  private readonly failures = new Map<string, { count: number; since: number }>();
  private minute = { start: 0, count: 0 };

  constructor(private readonly limits: WrongCodeLimits = LIMITS) {}

  /** Counts one wrong code from `address` at `now`. */
  count(address: string, now: number): Verdict {
    const key = failureKey(address);
    const old = this.failures.get(key);
    const current = old && now - old.since < WINDOW_MS ? old : undefined;
    if (current && current.count >= REFUSE_AFTER) return { refused: 'address' };
    if (now - this.minute.start >= 60_000) this.minute = { start: now, count: 0 };
    if (this.minute.count >= this.limits.perMinute) return { refused: 'everyone' };
    this.minute.count += 1;
    if (current) {
      current.count += 1;
      return { delayMs: Math.min(MAX_DELAY_MS, 250 * 2 ** (current.count - 1)) };
    }
    this.failures.delete(key);
    this.failures.set(key, { count: 1, since: now });
    for (const [oldest] of this.failures) {
      if (this.failures.size <= this.limits.kept) break;
      this.failures.delete(oldest);
    }
    return { delayMs: 250 };
  }
}
