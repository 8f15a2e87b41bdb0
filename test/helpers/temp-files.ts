import { readdirSync } from 'node:fs';

/** The server's upload temp files anywhere under a folder (there should be none once requests end). */
export const tempFilesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((name) => (name.split('/').pop() as string).startsWith('.rts-tmp-'));
