/** IPC channel names, shared by the main process and the (bundled) preload. */
export const methodChannel = (method: string): string => `api:${method}`;
export const EVENT_CHANNEL = 'api:event';
