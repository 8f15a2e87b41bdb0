/**
 * Lets at most `limit` tasks run at once; waiting tasks start in order of
 * their priority (0 first), in arrival order within one. Password checks go
 * through one, so that a flood of checks from many addresses cannot take all
 * the CPU, and the logins most likely to be real are checked first.
 */
export class CheckGate {
  private running = 0;
  private readonly waiting: (() => void)[][];

  constructor(
    private readonly limit: number,
    priorities: number,
  ) {
    this.waiting = Array.from({ length: priorities }, () => []);
  }

  async run<T>(priority: number, task: () => Promise<T>): Promise<T> {
    const queue = this.waiting[priority];
    if (!queue) throw new RangeError(`priority ${priority} is not one of 0 to ${this.waiting.length - 1}`);
    if (this.running < this.limit) this.running++;
    else await new Promise<void>((start) => queue.push(start));
    try {
      return await task();
    } finally {
      // The next check starts after the event loop had its turn.
      setImmediate(() => this.handOver());
    }
  }

  private handOver(): void {
    for (const queue of this.waiting) {
      const next = queue.shift();
      if (next) return next();
    }
    this.running--;
  }
}
