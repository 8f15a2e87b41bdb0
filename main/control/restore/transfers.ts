import { randomBytes } from 'node:crypto';
import type { TransferView } from '../../contract.js';
import { UserError } from '../core/errors.js';

/** Finished transfers kept for the page to read how they ended. */
const KEPT_FINISHED = 20;
/** A headless download the browser has not fetched by then is dropped. */
export const FETCH_WITHIN_MS = 60_000;

export interface Transfer {
  view: TransferView;
  /** What the download runs once it is fetched or saved. */
  username: string;
  args: string[];
  purpose: string;
  /** Stop what runs for it (each restic, the file being written) while it runs. */
  stops: Set<() => void>;
  /** Ends once everything it started has stopped and been cleaned up. */
  job: Promise<void> | null;
}

const finished = (view: TransferView): boolean => view.state === 'done' || view.state === 'failed' || view.state === 'cancelled';

/**
 * The downloads and restores of this session, by ID. An ID is 128 random
 * bits: for a headless download it is what lets the browser fetch that one
 * download, once, so it is handed only to the page that asked for it.
 */
export class Transfers {
  private readonly list = new Map<string, Transfer>();

  add(kind: TransferView['kind'], name: string, destination: string | null, run: Pick<Transfer, 'username' | 'args' | 'purpose'>): Transfer {
    const id = randomBytes(16).toString('base64url');
    const transfer: Transfer = {
      ...run,
      view: { id, kind, name, state: destination === null && kind === 'download' ? 'waiting' : 'running', bytes: 0, totalBytes: null, files: 0, kept: 0, destination, message: null },
      stops: new Set(),
      job: null,
    };
    this.list.set(id, transfer);
    this.prune();
    return transfer;
  }

  get(id: string): Transfer {
    const transfer = this.list.get(id);
    if (!transfer) throw new UserError('no-transfer', 'This download or restore is no longer known (the app restarted, or it ended long ago).');
    return transfer;
  }

  /** The waiting download with this ID, now running; undefined when there is none (fetched already, expired, or never). */
  take(id: string): Transfer | undefined {
    const transfer = this.list.get(id);
    if (transfer?.view.state !== 'waiting') return undefined;
    transfer.view.state = 'running';
    return transfer;
  }

  /** Its outcome, once (a later one is ignored); a cancelled transfer stops what still runs for it. */
  end(transfer: Transfer, state: 'done' | 'failed' | 'cancelled', message: string): void {
    if (finished(transfer.view)) return;
    transfer.view.state = state;
    transfer.view.message = message;
    if (state === 'cancelled') for (const stop of transfer.stops) stop();
  }

  /** Stops `stop` with the transfer: at once when it was cancelled already. */
  stopWith(transfer: Transfer, stop: () => void): void {
    if (transfer.view.state === 'cancelled') stop();
    else transfer.stops.add(stop);
  }

  /** Every transfer still under way. */
  running(): Transfer[] {
    return [...this.list.values()].filter((transfer) => !finished(transfer.view));
  }

  private prune(): void {
    const done = [...this.list.values()].filter((transfer) => finished(transfer.view));
    for (const transfer of done.slice(0, Math.max(0, done.length - KEPT_FINISHED))) this.list.delete(transfer.view.id);
  }
}
