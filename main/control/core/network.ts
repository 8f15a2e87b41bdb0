import { networkInterfaces } from 'node:os';

/** This computer's IPv4 addresses on its networks (not loopback, not link-local 169.254.x.x), sorted. */
export function lanAddresses(): string[] {
  const found = new Set<string>();
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv4' && !entry.internal && !entry.address.startsWith('169.254.')) found.add(entry.address);
    }
  }
  return [...found].sort();
}
