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

const SCREENS = [
  ['dashboard', 'Dashboard'],
  ['computers', 'Computers'],
  ['storage', 'Storage'],
  ['security', 'Security'],
  ['log', 'Live log'],
  ['settings', 'Settings'],
] as const;
type Screen = (typeof SCREENS)[number][0] | 'setup';

const screenFromHash = (): Screen => {
  const name = location.hash.replace(/^#\/?/, '').split('/')[0];
  return name === 'setup' || SCREENS.some(([id]) => id === name) ? (name as Screen) : 'dashboard';
};

export function App() {
  const [state, failure] = useAppState();
  const [screen, setScreen] = useState<Screen>(screenFromHash());
  const [selected, setSelected] = useState<string | null>(null);
  // Passwords made in this window, so their commands can be copied until it closes; never stored.
  const [passwords, setPasswords] = useState(new Map<string, string>());

  useEffect(() => {
    const follow = () => setScreen(screenFromHash());
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);

  const go = (next: Screen) => {
    location.hash = `#/${next}`;
    setScreen(next);
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
          const first = state.computers[0]?.username ?? null;
          setSelected(passwords.size > 0 ? ([...passwords.keys()][0] ?? first) : null);
          go(passwords.size > 0 ? 'computers' : 'dashboard');
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
              <a
                href={`#/${id}`}
                class={screen === id ? 'active' : ''}
                aria-current={screen === id ? 'page' : undefined}
                onClick={() => {
                  if (id === 'computers') setSelected(null);
                }}
              >
                {label}
              </a>
            </li>
          ))}
        </ul>
        <p class="sidebar-status">{statusWord(state)}</p>
      </nav>
      <main class="content">
        {screen === 'dashboard' && <Dashboard state={state} />}
        {screen === 'computers' && <Computers state={state} passwords={passwords} onLogin={remember} selected={selected} onSelect={setSelected} />}
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
