import { useState } from 'preact/hooks';
import type { AppState, GuiAddress, SettingsPatch } from '../../../main/contract.js';
import { api } from '../api.js';
import { Notifications } from '../components/notifications.js';
import { EmergencySheetCard } from '../components/emergency-sheet.js';
import { ResticProgram } from '../components/restic-program.js';
import { Card, CopyButton, ErrorText, Toggle, useAction } from '../components/ui.js';
import { parsePort } from '../format.js';

/** Headless mode's GUI address: where it is kept, and a new one when the old one may have been seen by others. */
function GuiAddressCard({ file }: { file: string }) {
  const [made, setMade] = useState<GuiAddress | null>(null);
  const action = useAction();
  return (
    <Card title="GUI address">
      <p class="why">
        This page reaches the app through an address that carries an access key. It stays the same from one start to the next, and is kept in <code>{file}</code>, readable only by you.
        Anyone who has it can use this app: if it was shown or sent where others may have seen it, make a new one. The old address then stops working at once, in every browser.
      </p>
      <button type="button" class="button" disabled={action.busy} onClick={() => void action.run(async () => setMade(await api.newGuiAddress()))}>
        Make a new GUI address
      </button>
      {made && (
        <div role="status">
          <p class="ok-text">The old address no longer works. This page goes on with the new one:</p>
          <p>
            <code class="secret">{made.url}</code> <CopyButton text={made.url} label="Copy the address" />
          </p>
          <p class="hint">
            Bookmark it, or find it again in <code>{made.file}</code>.
          </p>
        </div>
      )}
      <ErrorText error={action.error} />
    </Card>
  );
}

export function Settings({ state, onRunSetup }: { state: AppState; onRunSetup: () => void }) {
  const settings = state.settings;
  const [auto, setAuto] = useState(settings.listenAddresses === 'auto');
  const [addresses, setAddresses] = useState(Array.isArray(settings.listenAddresses) ? settings.listenAddresses.join(', ') : '');
  const [port, setPort] = useState(String(settings.port));
  const [staleDays, setStaleDays] = useState(String(settings.staleDays));
  const [integrityDays, setIntegrityDays] = useState(String(settings.integrityDays));
  const action = useAction();
  const [saved, setSaved] = useState(false);
  /** Saves a change; a patch made from typed text is made inside, so a typing mistake shows as the error. */
  const save = (patch: SettingsPatch | (() => SettingsPatch)) =>
    action.run(async () => {
      setSaved(false);
      await api.updateSettings(typeof patch === 'function' ? patch() : patch);
      setSaved(true);
    });
  return (
    <div class="screen">
      <h1>Settings</h1>
      <Card title="Network">
        <form
          class="stack"
          onSubmit={(event) => {
            event.preventDefault();
            const list = addresses
              .split(/[\s,]+/)
              .map((address) => address.trim())
              .filter(Boolean);
            void save(() => ({ listenAddresses: auto ? 'auto' : list, port: parsePort(port) }));
          }}
        >
          <Toggle checked={auto} onChange={setAuto} label="Listen on every home-network address" hint={`Now: ${state.listening.join(', ') || 'not listening'}`} />
          {!auto && (
            <div class="field">
              <label for="addresses">Addresses to listen on (comma-separated)</label>
              <input id="addresses" value={addresses} placeholder="192.168.1.20, 127.0.0.1" onInput={(event) => setAddresses((event.target as HTMLInputElement).value)} />
            </div>
          )}
          <div class="field narrow">
            <label for="port">Port</label>
            <input id="port" inputMode="numeric" value={port} onInput={(event) => setPort((event.target as HTMLInputElement).value)} />
          </div>
          <button type="submit" class="button primary">
            Save network settings
          </button>
        </form>
      </Card>
      <Card title="Warnings and behaviour">
        <form
          class="row-form"
          onSubmit={(event) => {
            event.preventDefault();
            void save({ staleDays: Number(staleDays) });
          }}
        >
          <label for="stale">Warn when a computer has not backed up for (days)</label>
          <input id="stale" class="narrow" inputMode="numeric" value={staleDays} onInput={(event) => setStaleDays((event.target as HTMLInputElement).value)} />
          <button type="submit" class="button small">
            Save
          </button>
        </form>
        <form
          class="row-form"
          onSubmit={(event) => {
            event.preventDefault();
            void save({ integrityDays: Number(integrityDays) });
          }}
        >
          <label for="integrity">Check every backup file for damage every (days)</label>
          <input id="integrity" class="narrow" inputMode="numeric" value={integrityDays} onInput={(event) => setIntegrityDays((event.target as HTMLInputElement).value)} />
          <button type="submit" class="button small">
            Save
          </button>
        </form>
        {state.desktop ? (
          <>
            <Toggle checked={settings.notifications} onChange={(notifications) => save({ notifications })} label="Notifications on this desktop" hint="When backups stop working, and when they work again." />
            <Toggle checked={settings.autostart} onChange={(autostart) => save({ autostart })} label="Start with this computer" hint="Hidden in the tray once the set-up is done." />
            <Toggle checked={settings.keepAwake} onChange={(keepAwake) => save({ keepAwake })} label="Keep this computer awake while backups run" />
          </>
        ) : (
          <p class="hint">Headless mode has no tray, notifications or start with the computer: run it under a service manager to keep it running (see docs/operations.md, "Running it as a service").</p>
        )}
      </Card>
      <ErrorText error={action.error} />
      {saved && !action.error && (
        <p class="ok-text" role="status">
          Saved.
        </p>
      )}
      <Card title="Notifications">
        <Notifications state={state} />
      </Card>
      <ResticProgram caretaker={state.caretaker} />
      {state.guiAddressFile !== null && <GuiAddressCard file={state.guiAddressFile} />}
      <EmergencySheetCard />
      <Card title="Set-up">
        <p class="why">Walk through the first-run steps again: another disk, more computers, other security choices. Nothing is lost.</p>
        <button type="button" class="button" onClick={onRunSetup}>
          Run the set-up again
        </button>
      </Card>
    </div>
  );
}
