import { afterAll } from 'vitest';
import { stopSshServers } from '../../bench/sshd.js';

afterAll(stopSshServers);

export { SshServer } from '../../bench/sshd.js';
