import type { AppState } from '../../main/contract.js';
import type { Controller } from '../../main/control/controller.js';

/** Waits for the state to be published with `accept` true: the notifications room has looked at it by then. */
export function published(controller: Controller, accept: (state: AppState) => boolean): Promise<AppState> {
  return new Promise((resolve) => {
    const listener = (state: AppState) => {
      if (!accept(state)) return;
      controller.off('state', listener);
      resolve(state);
    };
    controller.on('state', listener);
  });
}

let looks = 40;
/** Makes the app publish its state once more (a setting changes) and waits until it did: the notifications room looked at the clock as it is now. */
export async function look(controller: Controller): Promise<AppState> {
  const days = ++looks;
  const seen = published(controller, (state) => state.settings.integrityDays === days);
  await controller.updateSettings({ integrityDays: days });
  return seen;
}
