import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { USERNAME } from '../../../server/htpasswd.js';
import { writeFileAtomically } from '../core/files.js';
import { describeIssues } from '../core/schemas.js';

/** In the config folder, beside settings.json and the password file. */
export const MAINTENANCE_RECORD_FILE = 'maintenance-login.json';

const recordSchema = z.strictObject({ version: z.literal(1), username: z.string().regex(USERNAME).nullable() });

export type RecordContent =
  /** The record names the maintenance login, or says there is none (null). */
  | { found: true; username: string | null }
  /** No record (an older version, or a fresh config folder), or a damaged one: `problem` says what was wrong. */
  | { found: false; problem?: string };

/**
 * Which login is the maintenance login, kept apart from settings.json: when
 * the settings are damaged and the defaults are used, this record is the only
 * thing that tells the maintenance login from a computer's login that happens
 * to be called `maintenance`. Without it the login file's names would decide,
 * and a recovered login would be handed rights over every repository
 * (issue 24).
 */
export class MaintenanceRecord {
  constructor(readonly file: string) {}

  async read(): Promise<RecordContent> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { found: false };
      throw error;
    }
    try {
      const parsed = recordSchema.safeParse(JSON.parse(text));
      if (parsed.success) return { found: true, username: parsed.data.username };
      return { found: false, problem: describeIssues(parsed.error) };
    } catch (error) {
      return { found: false, problem: `not valid JSON (${(error as Error).message})` };
    }
  }

  write(username: string | null): Promise<void> {
    return writeFileAtomically(this.file, `${JSON.stringify({ version: 1, username })}\n`, 0o600);
  }
}
