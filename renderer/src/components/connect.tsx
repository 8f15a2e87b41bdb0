import { useState } from 'preact/hooks';
import type { ComputerOverview, ConnectLine } from '../../../main/contract.js';
import { api } from '../api.js';
import { timeAgo } from '../format.js';
import { Card, CodeBlock, download, ErrorText, MakeLineButton, useAction } from './ui.js';

/** The systems a line is made for, and where a person pastes it there. */
export const SYSTEMS = [
  { os: 'linux', label: 'Linux', where: 'a terminal' },
  { os: 'macos', label: 'macOS', where: 'Terminal (in Applications, Utilities)' },
  { os: 'windows', label: 'Windows', where: 'PowerShell (Start menu, type PowerShell)' },
] as const;

export type LineSystem = (typeof SYSTEMS)[number]['os'];

/** A line's end, as a clock time. */
export const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** The tabs that choose the system a line is made for. */
export function SystemTabs({ os, label, onChoose }: { os: LineSystem; label: string; onChoose: (os: LineSystem) => void }) {
  return (
    <div class="tabs" role="tablist" aria-label={label}>
      {SYSTEMS.map((one) => (
        <button type="button" role="tab" aria-selected={one.os === os} class={`tab ${one.os === os ? 'active' : ''}`} onClick={() => onChoose(one.os)} key={one.os}>
          {one.label}
        </button>
      ))}
    </div>
  );
}

/**
 * Where a line shown on the page stands: live until the computer uses it
 * (it connects after the line was made) or it expires; the state's refresh
 * every few seconds brings either.
 */
export function lineState(made: { madeAt: number; expiresAt: string } | null, computer: ComputerOverview): 'live' | 'used' | 'expired' | null {
  if (!made) return null;
  if (computer.connectedAt !== null && Date.parse(computer.connectedAt) >= made.madeAt) return 'used';
  return Date.now() > Date.parse(made.expiresAt) ? 'expired' : 'live';
}

/** "Connect this computer": one line to run there, made on request, valid once for 15 minutes; no password is shown. */
export function ConnectComputer({ computer }: { computer: ComputerOverview }) {
  const [os, setOs] = useState<LineSystem>('linux');
  const system = SYSTEMS.find((one) => one.os === os) ?? SYSTEMS[0];
  const [made, setMade] = useState<(ConnectLine & { madeAt: number }) | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const action = useAction();
  const state = lineState(made, computer);
  return (
    <Card title="Connect" id="connect">
      <p>
        One line to run on {computer.displayName}: it installs restic if needed, asks for the backup encryption password and whether to keep a copy of it here, makes the first backup and a daily one. Its server login goes
        straight to that computer: it is never shown.
      </p>
      <SystemTabs
        os={os}
        label="Its system"
        onChoose={(chosen) => {
          setOs(chosen);
          setMade(null);
          setSaved(null);
        }}
      />
      {saved && (
        <p class="ok-text" role="status">
          Saved {saved}. On {computer.displayName}, {os === 'windows' ? `right-click it and choose Run with PowerShell` : `run sh ${saved} in a terminal`}; then delete the file: it carries the computer’s server login.
        </p>
      )}
      {made && state === 'used' && (
        <p class="ok-text" role="status">
          The line was used: {computer.displayName} fetched its set-up {timeAgo(computer.connectedAt)}.
        </p>
      )}
      {made && state === 'expired' && <p class="hint">The line expired at {clock(made.expiresAt)} unused: make a new one.</p>}
      {made && state === 'live' && (
        <>
          <CodeBlock label={`Run this on ${computer.displayName}; it works once, until ${clock(made.expiresAt)}`} code={made.line} name="the line" />
          <p class="hint">Too long to type: copy it and send it to yourself (an e-mail or a chat message), then open it on {computer.displayName} and paste it into {system.where}.</p>
        </>
      )}
      <div class="button-row">
        <MakeLineButton
          made={made !== null}
          busy={action.busy}
          label="Make the line"
          again="Make a new line"
          onMake={() => void action.run(async () => setMade({ ...(await api.connectComputer({ username: computer.username, os })), madeAt: Date.now() }))}
        />
        <button
          type="button"
          class="button"
          disabled={action.busy}
          aria-describedby="setup-file-hint"
          onClick={() =>
            void action.run(async () => {
              const file = await api.setupFile({ username: computer.username, os });
              download(file.fileName, file.content, 'text/plain');
              setSaved(file.fileName);
            })
          }
        >
          Save the set-up file
        </button>
      </div>
      <p class="hint" id="setup-file-hint">
        The set-up file is the same set-up for a USB stick, with the server’s certificate inside; saving it gives {computer.displayName} a new server password at once.
      </p>
      <ErrorText error={action.error} />
    </Card>
  );
}
