import { useEffect, useRef, useState } from 'preact/hooks';
import type { TransferView } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatBytes, plural } from '../format.js';
import { ErrorText, Meter, useAction } from './ui.js';

/** How often the page asks how far a download or restore got. */
const POLL_MS = 500;

/** Hands a waiting download to the browser, which saves it to its downloads as it arrives (headless mode). */
function fetchInBrowser(transfer: TransferView): void {
  const link = document.createElement('a');
  link.href = `/download/${transfer.id}`;
  link.download = transfer.name;
  document.body.append(link);
  link.click();
  link.remove();
}

const under = (view: TransferView) => view.state === 'waiting' || view.state === 'running';

/** A download or restore under way: how far it got, a cancel button, and how it ended. */
export function TransferProgress({ started, onClose }: { started: TransferView; onClose: () => void }) {
  const [view, setView] = useState(started);
  const action = useAction();
  const handed = useRef(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Started from a row further down the page: brought into sight.
    box.current?.scrollIntoView({ block: 'nearest' });
    if (started.state === 'waiting' && !handed.current) {
      handed.current = true;
      fetchInBrowser(started);
    }
    let stopped = false;
    const poll = async () => {
      while (!stopped) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        const next = await api.transfer({ id: started.id }).catch(() => undefined);
        if (stopped || !next) continue;
        setView(next);
        if (!under(next)) return;
      }
    };
    void poll();
    return () => {
      stopped = true;
    };
  }, [started.id]);

  const verb = view.kind === 'download' ? 'Downloading' : 'Restoring';
  const share = view.totalBytes ? Math.min(1, view.bytes / view.totalBytes) : 0;
  return (
    <div class={`transfer transfer-${view.state}`} role="status" aria-label={`${verb} ${view.name}`} ref={box}>
      {under(view) ? (
        <>
          <p>
            <strong>
              {verb} {view.name}
            </strong>
            {view.destination && view.kind === 'download' && <span class="muted"> to {view.destination}</span>}
          </p>
          <Meter used={share} label={`${verb} ${view.name}`} />
          <p class="meter-caption muted">
            {formatBytes(view.bytes)}
            {view.totalBytes !== null && ` of about ${formatBytes(view.totalBytes)}`}
            {view.kind === 'restore' && view.files > 0 && ` · ${plural(view.files, 'file')}`}
          </p>
          <button type="button" class="button danger small" disabled={action.busy} onClick={() => void action.run(async () => setView(await api.cancelTransfer({ id: view.id })))}>
            Cancel
          </button>
        </>
      ) : (
        <>
          <p>{view.message}</p>
          <button type="button" class="button small" onClick={onClose}>
            Close
          </button>
        </>
      )}
      <ErrorText error={action.error} />
    </div>
  );
}
