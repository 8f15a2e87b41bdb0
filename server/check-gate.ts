/**
 * Lets at most `limit` tasks run at once; waiting tasks start in order, the
 * urgent ones first. Password checks go through one, so that a flood of
 * checks from many addresses cannot take all the CPU, and logins that have
 * not failed are checked before those that have.
 */
export class CheckGate {
  private running = 0;
  private readonly urgent: (() => void)[] = [];
  private readonly later: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(urgent: boolean, task: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running++;
    else await new Promise<void>((start) => (urgent ? this.urgent : this.later).push(start));
    try {
      return await task();
    } finally {
      // The next check starts after the event loop had its turn.
      setImmediate(() => this.handOver());
    }
  }

  private handOver(): void {
    const next = this.urgent.shift() ?? this.later.shift();
    if (next) next();
    else this.running--;
  }
}
