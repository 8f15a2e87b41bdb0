import { describe, expect, it } from 'vitest';
import { listenProblem } from '../../../../main/control/core/supervisor.js';

const failure = (code: string) => Object.assign(new Error(`listen ${code}`), { code });

describe('listen failures in words that say what to do', () => {
  it.each([
    ['EADDRINUSE', 'Port 8000 is already used by another program (another backup server?). Stop that program, or choose another port for this server.'],
    ['EACCES', 'Port 8000 needs administrator rights on this computer. Choose a port from 1024 up in Settings.'],
    ['EPERM', 'Port 8000 needs administrator rights on this computer. Choose a port from 1024 up in Settings.'],
    ['EADDRNOTAVAIL', 'The address 192.168.1.20 does not belong to this computer (any more). Choose the addresses to listen on in Settings.'],
    ['EMFILE', 'Cannot listen on 192.168.1.20 port 8000 (EMFILE).'],
  ])('%s', (code, message) => {
    expect(listenProblem(failure(code), '192.168.1.20', 8000)).toBe(message);
  });
});
