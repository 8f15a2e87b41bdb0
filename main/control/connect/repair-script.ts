import { SHELLS } from '../core/shell-quote.js';
import { CHECK_TYPE } from './connect-powershell.js';

/** What a repair script is made for: the computer, and the line's code it ends its right to delete with. */
export interface RepairFacts {
  displayName: string;
  code: string;
}

/**
 * What restic prints during a repair that sounds alarming but is expected
 * (restic 0.14's words, the same in later versions), said on the page and
 * by the script before it starts.
 */
export const EXPECTED_WARNINGS = [
  '“removing not found pack file …”: each damaged file the backup desktop moved aside, left out of the new index.',
  '“error: parts of … not found in the repository index; storing the file again”: the backup uploads again what those files held, from this computer.',
  '“Warning: at least one source file could not be read”: said after such a backup; the backup was saved all the same.',
];

const posix = SHELLS.bash.quote;
const powershell = SHELLS.powershell.quote;

/**
 * The repair a repair line fetches, for Linux and macOS: with the settings
 * the set-up line installed, a new index (restic 0.14 and 0.15:
 * rebuild-index; 0.16 and later: repair index), a backup that uploads again
 * what the damaged files held, then (0.16 and later) snapshots freed of
 * what cannot come back, and a check. However it ends, it tells the server,
 * which takes back the right to delete it gave for the repair.
 */
export function repairScript(facts: RepairFacts): string {
  return String.raw`#!/bin/sh
# Restic Tray Server: repairs this computer's backups after the backup desktop moved damaged files aside.
# All of it is one function, called on the last line: a download cut off anywhere runs nothing.
repair_these_backups() {
set -eu
COMPUTER=${posix(facts.displayName)}
CODE=${posix(facts.code)}
EXPECTED=${posix(EXPECTED_WARNINGS.map((warning) => `- ${warning}`).join('\n'))}
say() { printf '%s\n' "$*"; }
fail() { printf 'Restic Tray Server: %s\n' "$*" >&2; exit 1; }
DIR="${'$'}{XDG_CONFIG_HOME:-$HOME/.config}/restic-tray-server"
[ -s "$DIR/settings" ] && [ -x "$DIR/restic-tray-backup" ] ||
  fail "$COMPUTER was not set up with the app's line on this computer (nothing in $DIR): connect it with a new line first (its page in the app, Connect this computer)."
. "$DIR/settings"
export RESTIC_REPOSITORY_FILE RESTIC_PASSWORD_FILE
[ -n "${'$'}{RESTIC_REST_USERNAME:-}" ] && export RESTIC_REST_USERNAME RESTIC_REST_PASSWORD
server=$(sed -n 's|^rest:https://\([^@/]*@\)\{0,1\}\([^/]*\)/.*|\2|p' "$DIR/repository")
# The right to delete ends when the repair ends, however it ends (the address, with the code, on standard input).
outcome=failed
finish() {
  printf 'url = "%s"\n' "https://$server/.connect/$CODE/done" | curl -s -o /dev/null --max-time 10 --cacert "$DIR/ca.pem" -K - --data-binary "$outcome" || true
}
trap finish EXIT
r() { restic --cacert "$DIR/ca.pem" "$@"; }
set -- $(restic version | sed -n 's/^restic \([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p') 0 0
if [ "$1" -gt 0 ] || [ "$2" -ge 16 ]; then newer=yes; else newer=no; fi

say "Repairing the backups of $COMPUTER. restic says a few things on the way that sound alarming and are expected:"
say "$EXPECTED"
say ""
say "1. A new index of the backups, without the damaged files."
if [ "$newer" = yes ]; then r repair index; else r rebuild-index; fi || fail "restic could not make the new index (its message is above): make a new repair line in the app and try again."
say "2. A backup: what the damaged files held is uploaded again, where it is still on this computer."
"$DIR/restic-tray-backup" backup || [ $? -eq 3 ] || fail "the backup did not finish (restic's message is above): make a new repair line in the app and try again."
if [ "$newer" = yes ]; then
  say "3. The backups freed of what cannot come back (it was only in the damaged files)."
  r repair snapshots --forget || fail "restic could not repair the snapshots (its message is above): make a new repair line in the app and try again."
fi
say "Last: a check of the backups."
r check || fail "the check still finds damage (restic's message is above): tell whoever looks after the backup desktop."
outcome=ok
say ""
say "Done: the backups of $COMPUTER are repaired, and the check found no errors."
}
repair_these_backups
`;
}

/** The same repair on Windows, with the settings its set-up installed in %LOCALAPPDATA%\restic-tray-server; it never calls `exit`. */
export function powershellRepairScript(facts: RepairFacts, authorityDerBase64: string): string {
  const script = String.raw`# Restic Tray Server: repairs this computer's backups after the backup desktop moved damaged files aside.
$ErrorActionPreference = 'Stop'
$Computer = ${powershell(facts.displayName)}
$Code = ${powershell(facts.code)}
$AuthorityDer = ${powershell(authorityDerBase64)}
$Dir = Join-Path $env:LOCALAPPDATA 'restic-tray-server'
$command = Join-Path $Dir 'restic-tray-backup.ps1'
if (-not (Test-Path -LiteralPath $command)) { throw "Restic Tray Server: $Computer was not set up with the app's line on this computer (nothing in $Dir): connect it with a new line first (its page in the app, Connect this computer)." }
$env:RESTIC_REPOSITORY_FILE = Join-Path $Dir 'repository'
$env:RESTIC_PASSWORD_FILE = Join-Path $Dir 'password'
$login = Join-Path $Dir 'login.ps1'
if (Test-Path -LiteralPath $login) { . $login }
$ca = Join-Path $Dir 'ca.pem'
$server = [regex]::Match((Get-Content -LiteralPath $env:RESTIC_REPOSITORY_FILE -Raw), '^rest:https://(?:[^@/]*@)?([^/]+)/').Groups[1].Value
${CHECK_TYPE}
$version = [regex]::Match((& restic version | Out-String), 'restic (\d+)\.(\d+)')
$newer = $version.Success -and (([int]$version.Groups[1].Value -gt 0) -or ([int]$version.Groups[2].Value -ge 16))
$outcome = 'failed'
# The right to delete ends when the repair ends, however it ends.
try {
  Write-Host "Repairing the backups of $Computer. restic says a few things on the way that sound alarming and are expected:"
${EXPECTED_WARNINGS.map((warning) => `  Write-Host ${powershell(`- ${warning}`)}`).join('\n')}
  Write-Host '1. A new index of the backups, without the damaged files.'
  if ($newer) { & restic --cacert $ca repair index } else { & restic --cacert $ca rebuild-index }
  if ($LASTEXITCODE -ne 0) { throw 'Restic Tray Server: restic could not make the new index (its message is above): make a new repair line in the app and try again.' }
  Write-Host '2. A backup: what the damaged files held is uploaded again, where it is still on this computer.'
  & powershell.exe -NoProfile -ExecutionPolicy Bypass -File $command backup
  if ($LASTEXITCODE -ne 0 -and $LASTEXITCODE -ne 3) { throw 'Restic Tray Server: the backup did not finish (restic''s message is above): make a new repair line in the app and try again.' }
  if ($newer) {
    Write-Host '3. The backups freed of what cannot come back (it was only in the damaged files).'
    & restic --cacert $ca repair snapshots --forget
    if ($LASTEXITCODE -ne 0) { throw 'Restic Tray Server: restic could not repair the snapshots (its message is above): make a new repair line in the app and try again.' }
  }
  Write-Host 'Last: a check of the backups.'
  & restic --cacert $ca check
  if ($LASTEXITCODE -ne 0) { throw 'Restic Tray Server: the check still finds damage (restic''s message is above): tell whoever looks after the backup desktop.' }
  $outcome = 'ok'
  Write-Host "Done: the backups of $Computer are repaired, and the check found no errors."
} finally {
  [RtsSetupCheck]::Send("https://$server/.connect/$Code/done", $AuthorityDer, $outcome) | Out-Null
}
`;
  return script.replace(/\r?\n/g, '\r\n');
}
