/**
 * Hands events to a consumer that may be slow or stuck (a log file on a
 * slow disk, a GUI window that froze) without ever making the producer wait:
 * events wait in a bounded buffer, are delivered in batches, one batch at a
 * time, and what does not fit is dropped and counted.
 */
export class Subscription<T> {
  private buffer: T[] = [];
  private delivering = false;
  private closed = false;
  private droppedCount = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly consume: (batch: T[]) => void | Promise<void>,
    private readonly capacity: number,
  ) {}

  /** Never blocks and never throws. */
  push(event: T): void {
    if (this.closed) return;
    if (this.buffer.length >= this.capacity) {
      this.droppedCount++;
      return;
    }
    this.buffer.push(event);
    if (!this.delivering) {
      this.delivering = true;
      setImmediate(() => void this.deliver());
    }
  }

  /** Events that did not fit in the buffer since the start. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Resolves once everything pushed so far was handed over, or after `boundMs` if the consumer is stuck. */
  async settled(boundMs: number): Promise<void> {
    if (!this.delivering) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.waiters.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, boundMs))),
    ]);
    clearTimeout(timer);
  }

  close(): void {
    this.closed = true;
    this.buffer = [];
  }

  private async deliver(): Promise<void> {
    while (this.buffer.length > 0 && !this.closed) {
      const batch = this.buffer;
      this.buffer = [];
      try {
        await this.consume(batch);
      } catch {
        // A consumer's failure is its own; the producer carries on.
      }
    }
    this.delivering = false;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
