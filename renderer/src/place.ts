/** Where the page is: the screen and, on Computers, the computer shown; kept in the address's fragment. */

export const SCREENS = [
  ['dashboard', 'Dashboard'],
  ['computers', 'Computers'],
  ['storage', 'Storage'],
  ['security', 'Security'],
  ['log', 'Live log'],
  ['settings', 'Settings'],
] as const;
export type Screen = (typeof SCREENS)[number][0] | 'setup';

/** `#/computers/annas-laptop`: the screen, and the computer shown on it. */
export function fromHash(): { screen: Screen; selected: string | null } {
  const [name, item] = location.hash.replace(/^#\/?/, '').split('/');
  const screen = name === 'setup' || SCREENS.some(([id]) => id === name) ? (name as Screen) : 'dashboard';
  return { screen, selected: screen === 'computers' && item ? decodeURIComponent(item) : null };
}

/** Where a screen (and a computer on it) lives in the address. */
export const hashOf = (screen: Screen, selected: string | null = null): string => `#/${screen}${selected === null ? '' : `/${encodeURIComponent(selected)}`}`;
