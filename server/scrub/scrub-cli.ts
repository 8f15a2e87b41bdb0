import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createSyncer } from '../fsync.js';
import { parseTarget } from '../repo-path.js';
import { findRepositories, QUARANTINE_NAME, scrub, type Finding } from './scrub.js';

export const SCRUB_USAGE = `Usage: restic-tray-server scrub --path DIR [--repo NAME] [--quarantine] [--json]

Checks every object of the repositories in DIR (rest-server's data layout)
against its name, the SHA-256 of its contents: no restic password needed.
Finds changed, cut-off, empty and unreadable files, and files restic would
never read. A check of the whole folder keeps its progress in DIR (a hidden
file) and resumes there when stopped (Ctrl-C) and started again.

Flags:
      --path DIR      the data folder (required)
      --repo NAME     only this repository, e.g. alice or alice/laptop (no progress kept)
      --quarantine    move damaged objects into DIR/${QUARANTINE_NAME}/ (kept,
                      out of restic's sight) so new backups stop using them;
                      then repair the repository with restic
      --json          print the result as JSON
  -h, --help          print this help and exit

A symbolic link in DIR is never followed: what lies behind one is not
checked, and each is named on a "not checked" line.

Exit status: 0 nothing damaged, 1 something damaged, 2 wrong usage or the
check could not run, 3 stopped before the end.
`;

function describe(finding: Finding): string {
  const where = finding.repo === '' ? finding.file : `${finding.repo}/${finding.file}`;
  const moved = finding.quarantined ? ` Moved to ${finding.quarantined}.` : '';
  return `${where}: ${finding.damage}. ${finding.detail}${moved}`;
}

/** `restic-tray-server scrub ...`: returns the exit status. */
export async function runScrubCli(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { path: { type: 'string' }, repo: { type: 'string' }, quarantine: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n\n${SCRUB_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(SCRUB_USAGE);
    return 0;
  }
  const fail = (message: string) => {
    process.stderr.write(`error: ${message}\n`);
    return 2;
  };
  if (!values.path) return fail('--path is required (the data folder)');
  const root = resolve(values.path);
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) return fail(`--path ${values.path}: no such folder`);
  let repo: string | undefined;
  if (values.repo !== undefined) {
    try {
      const target = parseTarget(`/${values.repo.replace(/^\/+|\/+$/g, '')}/`);
      if (target.kind !== 'repo' || target.repo.length === 0) throw new Error();
      repo = target.repo.join('/');
    } catch {
      return fail(`--repo ${values.repo}: not a repository name (one or two folder names, e.g. alice or alice/laptop)`);
    }
    if (!(await findRepositories(root)).includes(repo)) return fail(`--repo ${values.repo}: there is no repository of that name in ${root}`);
  }

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let outcome;
  try {
    outcome = await scrub({
      root,
      repo,
      quarantine: values.quarantine === true,
      syncer: createSyncer((message) => process.stderr.write(`warning: ${message}\n`)),
      signal: stop.signal,
    });
  } catch (error) {
    return fail(`the check stopped: ${(error as Error).message}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const counts = outcome.finished ? outcome.pass : outcome.counts;
  if (!outcome.finished && outcome.diskMissing) process.stderr.write(`error: ${root} is no longer on the disk it was on: was the disk unplugged? Plug it in and run the check again.\n`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ finished: outcome.finished, ...counts }, null, 2)}\n`);
  } else {
    for (const finding of counts.findings) process.stdout.write(`${describe(finding)}\n`);
    for (const item of counts.skipped ?? []) process.stdout.write(`${item.path}: not checked, ${item.reason}.\n`);
    const checked = `${counts.objects} objects (${(counts.bytes / 1e6).toFixed(1)} MB)`;
    const found = counts.findings.length === 0 ? 'nothing damaged' : `${counts.findings.length} damaged or misplaced`;
    process.stdout.write(
      outcome.finished
        ? `Checked ${checked}: ${found}.\n`
        : `Stopped after ${checked}: ${found} so far.${!outcome.diskMissing && repo === undefined ? ' Run the same command again to go on from there.' : ''}\n`,
    );
    if (counts.findings.length > 0 && !values.quarantine) {
      process.stdout.write('Damaged objects are still where restic uses them: run again with --quarantine to move them aside, then repair the repository with restic.\n');
    }
  }
  if (!outcome.finished) return 3;
  return counts.findings.length > 0 ? 1 : 0;
}
