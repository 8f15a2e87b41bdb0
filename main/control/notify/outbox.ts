import type { Message, Ping } from './senders.js';

/** The first retry waits a minute, each next one twice as long, up to an hour. */
const FIRST_RETRY_MS = 60_000;
const LONGEST_RETRY_MS = 3_600_000;
/** After this many attempts (about a day) a message is given up. */
const MAX_ATTEMPTS = 28;
/** Failures in a row from which a channel shows as failing on the dashboard. */
export const FAILING_AFTER = 3;

interface Delivery {
  channelId: string;
  item: Message | Ping;
  attempts: number;
  nextAt: number;
  sending: boolean;
  /** The channel changed while this was being sent (to where it was before): tried again at once, whatever that attempt gives. */
  again: boolean;
}

/** How a channel fares: its last problem in words, failures in a row, the last message that went out. */
export interface Health {
  problem: string | null;
  failures: number;
  lastSentAt: number | null;
}

/**
 * Messages on their way to the channels: each tried at once, then again
 * with a growing wait while it fails, and given up after about a day. Each
 * channel's health follows its attempts.
 */
export class Outbox {
  private readonly queue: Delivery[] = [];
  private readonly healths = new Map<string, Health>();

  constructor(
    private readonly parts: {
      send: (channelId: string, item: Message | Ping) => Promise<void>;
      now: () => number;
      /** A channel's health changed: `failed` with its problem when it just stopped working, null when it works again. */
      onHealth: (channelId: string, failed: string | null) => void;
    },
  ) {}

  add(channelId: string, item: Message | Ping): void {
    this.queue.push({ channelId, item, attempts: 0, nextAt: this.parts.now(), sending: false, again: false });
    this.run();
  }

  /** A channel changed (a password corrected, say): its waiting messages are tried again at once. */
  retryNow(channelId: string): void {
    for (const delivery of this.queue) {
      if (delivery.channelId !== channelId) continue;
      delivery.nextAt = this.parts.now();
      delivery.again = delivery.sending;
    }
    this.run();
  }

  /** A channel removed: its messages are not sent and its health forgotten. */
  drop(channelId: string): void {
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]?.channelId === channelId) this.queue.splice(i, 1);
    this.healths.delete(channelId);
  }

  health(channelId: string): Health {
    return this.healths.get(channelId) ?? { problem: null, failures: 0, lastSentAt: null };
  }

  /** Records an attempt made elsewhere ("Send a test") in the channel's health. */
  record(channelId: string, problem: string | null): void {
    const before = this.health(channelId);
    const after: Health = problem === null ? { problem: null, failures: 0, lastSentAt: this.parts.now() } : { ...before, problem, failures: before.failures + 1 };
    this.healths.set(channelId, after);
    if (problem === null && before.problem !== null) this.parts.onHealth(channelId, null);
    if (problem !== null && before.problem === null) this.parts.onHealth(channelId, problem);
  }

  /** Tries every message that is due. */
  run(): void {
    const now = this.parts.now();
    for (const delivery of this.queue) {
      if (delivery.sending || delivery.nextAt > now) continue;
      delivery.sending = true;
      void this.attempt(delivery, now);
    }
  }

  /** Messages not sent yet. */
  get pending(): number {
    return this.queue.length;
  }

  /** The next try's wait counts from when this one began, not from when its answer came. */
  private async attempt(delivery: Delivery, startedAt: number): Promise<void> {
    let problem: string | null = null;
    try {
      await this.parts.send(delivery.channelId, delivery.item);
    } catch (error) {
      problem = (error as Error).message;
    }
    delivery.sending = false;
    delivery.attempts += 1;
    const index = this.queue.indexOf(delivery);
    // Removed meanwhile: the channel is gone, so is its health.
    if (index < 0) return;
    this.record(delivery.channelId, problem);
    if (problem === null || delivery.attempts >= MAX_ATTEMPTS) {
      this.queue.splice(index, 1);
      return;
    }
    if (delivery.again) {
      delivery.again = false;
      this.run();
      return;
    }
    delivery.nextAt = startedAt + Math.min(FIRST_RETRY_MS * 2 ** (delivery.attempts - 1), LONGEST_RETRY_MS);
  }
}
