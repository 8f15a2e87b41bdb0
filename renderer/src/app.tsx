import { useEffect, useState } from 'preact/hooks';
import type { AppState, LoginCreated } from '../../main/contract.js';
import { api, useAppState } from './api.js';
import { Dot } from './components/ui.js';
import { Computers } from './screens/computers.js';
import { Dashboard } from './screens/dashboard.js';
import { Log } from './screens/log.js';
import { Security } from './screens/security.js';
import { Settings } from './screens/settings.js';
import { Setup } from './screens/setup.js';
import { Storage } from './screens/storage.js';
import { fromHash, hashOf, SCREENS, type Screen } from './place.js';

export function App() {
  const [state, failure] = useAppState();
  const [{ screen, selected }, setPlace] = useState(fromHash);
  // Passwords made in this window, so their commands can be copied until it closes; never stored.
  const [passwords, setPasswords] = useState(new Map<string, string>());

  useEffect(() => {
    const follow = () => setPlace(fromHash());
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);

  const go = (next: Screen, computer: string | null = null) => {
    location.hash = hashOf(next, computer);
    setPlace({ screen: next, selected: computer });
  };
  const remember = (login: LoginCreated) => setPasswords((map) => new Map(map).set(login.username, login.password));

  if (!state) {
    return (
      <div class="loading">
        {failure ? (
          <p class="error" role="alert">
            {failure}
          </p>
        ) : (
          'Loading…'
        )}
      </div>
    );
  }
  if (!state.setupComplete || screen === 'setup') {
    return (
      <Setup
        state={state}
        onLogin={remember}
        onDone={() => {
          const fresh = [...passwords.keys()][0];
          if (fresh === undefined) go('dashboard');
          else go('computers', fresh);
        }}
      />
    );
  }
  return (
    <div class="shell">
      <nav class="sidebar" aria-label="Sections">
        <div class="brand">
          <Dot colour={state.colour} />
          <span>Restic Tray Server</span>
        </div>
        <ul>
          {SCREENS.map(([id, label]) => (
            <li key={id}>
              <a href={hashOf(id)} class={screen === id ? 'active' : ''} aria-current={screen === id ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
        <p class="sidebar-status">{statusWord(state)}</p>
      </nav>
      <main class="content">
        {screen === 'dashboard' && <Dashboard state={state} />}
        {screen === 'computers' && <Computers state={state} passwords={passwords} onLogin={remember} selected={selected} onSelect={(username) => go('computers', username)} />}
        {screen === 'storage' && <Storage state={state} />}
        {screen === 'security' && <Security state={state} />}
        {screen === 'log' && <Log state={state} />}
        {screen === 'settings' && (
          <Settings
            state={state}
            onRunSetup={() => {
              void api.updateSettings({ setupComplete: false });
              go('setup');
            }}
          />
        )}
      </main>
    </div>
  );
}

function statusWord(state: AppState): string {
  const words: Record<AppState['status'], string> = {
    stopped: 'Stopped',
    starting: 'Starting',
    serving: 'Serving',
    attention: 'Needs attention',
    'disk-missing': 'Disk missing',
    error: 'Not running',
  };
  return words[state.status];
}
