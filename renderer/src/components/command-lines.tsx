import { useEffect, useState } from 'preact/hooks';
import type { CommandSet, OperatingSystem, ResticVersion, Shell } from '../../../main/contract.js';
import { api } from '../api.js';
import { CodeBlock, ErrorText, download, useAction } from './ui.js';

const SYSTEMS: { id: string; label: string; os: OperatingSystem; shell: Shell }[] = [
  { id: 'linux', label: 'Linux', os: 'linux', shell: 'bash' },
  { id: 'macos', label: 'macOS', os: 'macos', shell: 'bash' },
  { id: 'powershell', label: 'Windows (PowerShell)', os: 'windows', shell: 'powershell' },
  { id: 'cmd', label: 'Windows (cmd)', os: 'windows', shell: 'cmd' },
];

/** What `restic-tray-backup` does on a computer the set-up line connected: nothing to fill in. */
function InstalledCommands({ installed }: { installed: NonNullable<CommandSet['installed']> }) {
  return (
    <div class="installed" data-testid="installed-commands">
      {installed.notes.map((note) => (
        <p class="hint" key={note}>
          {note}
        </p>
      ))}
      {installed.commands.map((line) => (
        <CodeBlock label={line.label} code={line.command} name={line.command.replace('restic-tray-backup ', '')} key={line.command} />
      ))}
    </div>
  );
}

/**
 * The restic commands for one computer, per operating system, with copy
 * buttons and the authority file to save; with `repair`, the steps that
 * repair its repository after the integrity check moved damaged files aside;
 * with `restore`, only what gets files back (from the server, or from the
 * offsite copy). For a computer the set-up line connected, restoring is its
 * own command, `restic-tray-backup`, with nothing to fill in.
 */
export function CommandLines({
  username,
  password,
  repository,
  repair,
  restore,
  os,
  setUpBy,
}: {
  username: string;
  password?: string;
  repository?: string;
  repair?: boolean;
  restore?: boolean;
  /** The computer's system, when its set-up reported it: the tab shown first. */
  os?: OperatingSystem | null;
  /** How the computer was set up: when a line sets it up while the page is open, the commands are asked for again. */
  setUpBy?: 'line' | 'hand';
}) {
  const [system, setSystem] = useState<string>(os === 'windows' ? 'powershell' : (os ?? 'linux'));
  const [version, setVersion] = useState<ResticVersion>('before-0.17');
  const [set, setSet] = useState<CommandSet>();
  const action = useAction();
  const chosen = SYSTEMS.find((candidate) => candidate.id === system) ?? SYSTEMS[0]!;

  useEffect(() => {
    void action.run(async () =>
      setSet(await api.commandLines({ username, os: chosen.os, shell: chosen.shell, resticVersion: version, ...(password ? { password } : {}), ...(repository ? { repository } : {}) })),
    );
  }, [username, password, repository, system, version, setUpBy]);

  const saveAuthority = () =>
    action.run(async () => {
      const ca = await api.caCertificate();
      download(ca.fileName, ca.pem);
    });

  const installed = restore && set?.installed;
  const choice = (
    <div class="commands-choice">
      <div class="tabs" role="tablist" aria-label="Operating system">
        {SYSTEMS.map((candidate) => (
          <button type="button" role="tab" aria-selected={candidate.id === system} class={`tab ${candidate.id === system ? 'active' : ''}`} onClick={() => setSystem(candidate.id)} key={candidate.id}>
            {candidate.label}
          </button>
        ))}
      </div>
      <label class="inline">
        restic version
        <select value={version} onChange={(event) => setVersion((event.target as HTMLSelectElement).value as ResticVersion)}>
          <option value="before-0.17">before 0.17 (e.g. Debian 12, Ubuntu 24.04)</option>
          <option value="0.17-or-newer">0.17 or newer</option>
        </select>
      </label>
    </div>
  );
  const fromCopy = set?.fromCopy && (
    <details class="more">
      <summary>From the offsite copy, when this server or its disk is gone</summary>
      {set.fromCopy.notes.map((note) => (
        <p class="hint" key={note}>
          {note}
        </p>
      ))}
      {set.fromCopy.steps.map((step, index) => (
        <CodeBlock label={step.label} code={step.command} name={`copy step ${index + 1}`} key={step.label} />
      ))}
    </details>
  );
  const byHand = set && (
    <>
      <div class="secrets">
        <p>
          <strong>Two secrets.</strong> {set.secrets.serverLogin}
        </p>
        <p>{set.secrets.encryptionPassword}</p>
      </div>
      {set.caFileName && (
        <div class="step-line">
          <span>
            1. Save the authority file <code>{set.caFileName}</code> on the computer.
          </span>
          <button type="button" class="button small" onClick={() => void saveAuthority()}>
            Save {set.caFileName}
          </button>
        </div>
      )}
      {set.notes.map((note) => (
        <p class="hint" key={note}>
          {note}
        </p>
      ))}
      <CodeBlock label="Set-up: paste this first in a terminal on the computer" code={set.setup} name="set-up" />
      {repair ? (
        <>
          {set.repair.steps.map((step, index) => (
            <CodeBlock label={step.label} code={step.command} name={`repair step ${index + 1}`} key={step.label} />
          ))}
          {set.repair.notes.map((note) => (
            <p class="hint" key={note}>
              {note}
            </p>
          ))}
        </>
      ) : set.maintenance ? (
        set.maintenance.map((line, index) => <CodeBlock label={line.label} code={line.command} name={`maintenance step ${index + 1}`} key={line.label} />)
      ) : restore ? (
        <CodeBlock label={set.commands.restore.label} code={set.commands.restore.command} name="restore" />
      ) : (
        Object.entries(set.commands).map(([key, line]) => <CodeBlock label={line.label} code={line.command} name={key} key={key} />)
      )}
      {!repair && !restore && !set.maintenance && (
      <details class="more">
        <summary>Without typing: a settings file, and a daily schedule</summary>
        <p class="hint">{set.envFile.usage}</p>
        <CodeBlock label={set.envFile.fileName} code={set.envFile.content} name={set.envFile.fileName} />
        <h4>{set.schedule.label}</h4>
        <p class="hint">{set.schedule.usage}</p>
        {set.schedule.files.map((file) => (
          <CodeBlock label={file.fileName} code={file.content} name={file.fileName} key={file.fileName} />
        ))}
      </details>
      )}
      {restore && fromCopy}
    </>
  );
  return (
    <div class="commands">
      {installed ? (
        <>
          <InstalledCommands installed={installed} />
          {fromCopy}
        </>
      ) : (
        <>
          {choice}
          <ErrorText error={action.error} />
          {byHand}
        </>
      )}
    </div>
  );
}
