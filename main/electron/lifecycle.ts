import type { App } from 'electron';

/**
 * Quit stops accepting requests, lets uploads in flight finish (the server's
 * drain bound), then exits. Returns whether quitting has begun, for the
 * window, which hides on close until then.
 */
export function drainOnQuit(app: Pick<App, 'on' | 'exit'>, close: () => Promise<void>): () => boolean {
  let quitting = false;
  let closed = false;
  app.on('before-quit', (event) => {
    quitting = true;
    if (closed) return;
    event.preventDefault();
    void close()
      .catch(() => undefined)
      .finally(() => {
        closed = true;
        app.exit(0);
      });
  });
  return () => quitting;
}
