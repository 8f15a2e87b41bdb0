import { powerSaveBlocker } from 'electron';

/** How long after the last upload the computer may sleep again. */
export const IDLE_MS = 3 * 60_000;

/**
 * Keeps the computer from sleeping while backups arrive: blocked at the first
 * upload, released a few idle minutes after the last one.
 */
export class KeepAwake {
  private blocker: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly idleMs = IDLE_MS) {}

  /** An upload was seen. */
  activity(): void {
    if (this.blocker === undefined) this.blocker = powerSaveBlocker.start('prevent-app-suspension');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.release(), this.idleMs);
    this.timer.unref();
  }

  release(): void {
    clearTimeout(this.timer);
    if (this.blocker !== undefined) powerSaveBlocker.stop(this.blocker);
    this.blocker = undefined;
  }
}
