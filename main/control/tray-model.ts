import type { AppState, Colour, Notification } from '../contract.js';

export type TrayAction = 'toggle' | 'open' | 'copy-address' | 'quit';

export type TrayMenuItem =
  | { kind: 'status'; label: string }
  | { kind: 'separator' }
  | { kind: 'action'; action: TrayAction; label: string; enabled: boolean };

export interface TrayModel {
  colour: Colour;
  tooltip: string;
  menu: TrayMenuItem[];
}

/** Windows cuts tray tooltips at 127 characters; menus wider than this are hard to read. */
const TOOLTIP_MAX = 127;
const MENU_LABEL_MAX = 80;

const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** The tray icon, tooltip and menu for a state: rebuilt on every change. */
export function trayModel(state: Pick<AppState, 'status' | 'colour' | 'sentence' | 'clientUrl'>): TrayModel {
  const running = state.status !== 'stopped' && state.status !== 'error';
  return {
    colour: state.colour,
    tooltip: cut(`Restic Tray Server: ${state.sentence}`, TOOLTIP_MAX),
    menu: [
      { kind: 'status', label: cut(state.sentence, MENU_LABEL_MAX) },
      { kind: 'separator' },
      { kind: 'action', action: 'toggle', label: running ? 'Stop the server' : 'Start the server', enabled: state.status !== 'starting' },
      { kind: 'action', action: 'open', label: 'Open Restic Tray Server', enabled: true },
      { kind: 'action', action: 'copy-address', label: 'Copy the client address', enabled: state.clientUrl !== null },
      { kind: 'separator' },
      { kind: 'action', action: 'quit', label: 'Quit', enabled: true },
    ],
  };
}

type Notable = Pick<AppState, 'colour' | 'sentence' | 'reasons'>;

/**
 * Notifications for a change of state: turning red, recovering from red, and
 * each warning that was not there before. Nothing is said twice for a state
 * that lasts; `previous` is undefined at launch.
 */
export function notificationsFor(previous: Notable | undefined, next: Notable): Notification[] {
  const notes: Notification[] = [];
  const wasRed = previous?.colour === 'red';
  if (next.colour === 'red' && !wasRed) {
    notes.push({ title: 'Backups need you', body: next.sentence });
  } else if (wasRed && next.colour !== 'red') {
    notes.push({ title: 'Backups work again', body: next.sentence });
  }
  const known = new Set(previous?.reasons.map((reason) => reason.key));
  for (const reason of next.reasons) {
    if (reason.severity === 'warning' && !known.has(reason.key)) notes.push({ title: 'Restic Tray Server', body: reason.message });
  }
  return notes;
}
