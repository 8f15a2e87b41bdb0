import { SHELLS } from '../core/shell-quote.js';
import type { SetupSteps } from './connect-script.js';
import { powershellRestoreFolder, shRestoreFolder } from './restore-folder.js';

/** What a new computer's set-up carries besides the connect line's: the old one's kept password and what to restore. */
export interface RestoreFacts {
  /** The encryption password kept on the desktop: only the script ever sees it. */
  password: string;
  snapshotId: string;
  /** The backup's time, in words. */
  backedUp: string;
  /** The old home folder inside the folder restic restores into: `home/anna`. */
  from: string;
  /** The oldest restic 0.x that reads the backups (0: any). */
  needsMinor: number;
  /** Where the files go, as the family gave it; null for the home folder. */
  target: string | null;
}

const AGAIN = "make a new line in the app (the computer's page, Restore, Set up a new computer with these files): each line works once.";
const q = SHELLS.bash.quote;
const powershell = SHELLS.powershell.quote;

/**
 * A new computer's set-up, for Linux and macOS: the connect line's, with
 * the kept encryption password instead of a new one, and the newest backup
 * restored before the first backup (a backup of the nearly empty computer
 * must never become the newest one). restic writes over files of the same
 * name, so it restores into a new folder inside the target (the same disk:
 * a move is a rename), and only what is not there yet is moved in: a new computer's own
 * files (its .bashrc) stay as they are, and what was not moved stays in
 * that folder, said at the end. A failed restore ends the set-up before
 * any backup or schedule, with the settings in place.
 */
export function newLaptopSteps(facts: RestoreFacts): SetupSteps {
  return {
    values: [
      `KEPT_PASSWORD=${q(facts.password)}`,
      `SNAPSHOT=${q(facts.snapshotId)}`,
      `BACKED_UP=${q(facts.backedUp)}`,
      `FROM=${q(facts.from)}`,
      `TARGET=${q(facts.target ?? '~')}`,
      `NEEDS_MINOR=${facts.needsMinor}`,
    ].join('\n'),
    again: AGAIN,
    greeting: 'say "Setting up this computer as $COMPUTER: its files come back from its backup of $BACKED_UP, then it backs up to the server as $COMPUTER did."',
    checkVersion: String.raw`if [ "$1" -eq 0 ] && [ "$2" -lt "$NEEDS_MINOR" ]; then
  fail "restic $1.$2 on this computer is too old to read the backups of $COMPUTER (they need restic 0.$NEEDS_MINOR or newer): install a newer restic (restic.net), then $AGAIN"
fi`,
    // The kept password reached this script over the pinned connection; printf is the shell's own, so no process list shows it.
    password: String.raw`keep=no
printf '%s' "$KEPT_PASSWORD" > "$DIR/password.new"
mv "$DIR/password.new" "$DIR/password"
KEPT_PASSWORD=''`,
    missing: `    fail "there are no backups of $COMPUTER on the server (the backup desktop may be using another disk now): check its Storage page, then $AGAIN"`,
    beforeBackup: RESTORE,
  };
}

const RESTORE = String.raw`case "$TARGET" in
  '~') TARGET=$HOME ;;
  '~/'*) TARGET="$HOME/${'$'}{TARGET#'~/'}" ;;
  /*) ;;
  *) TARGET="$HOME/$TARGET" ;;
esac
mkdir -p "$TARGET" || fail "the folder $TARGET could not be made: give another one, then $AGAIN"
${shRestoreFolder('staging', '$TARGET', 'fail "no new folder could be made in $TARGET to restore into: $AGAIN"')}
# Regular files and their bytes under a folder (ls -n: the size is the fifth column on every system).
tally() { find "$1" -type f -exec ls -lnd {} + 2>/dev/null | awk '$5 ~ /^[0-9]+$/ { n++; s += $5 } END { printf "%d %.0f\n", n, s }'; }
bytes() { awk -v b="$1" 'BEGIN { split("bytes KB MB GB TB PB", u, " "); i = 1; while (b >= 1000 && i < 6) { b /= 1000; i++ } if (i == 1) printf "%d bytes", b; else printf (b < 10 ? "%.1f %s" : "%.0f %s"), b, u[i] }'; }
files() { if [ "$1" -eq 1 ]; then printf '1 file'; else printf '%s files' "$1"; fi; }
# Moves what folder $1 holds into folder $2, never over anything: a folder on both sides is entered, anything else already in $2 stays.
move_in() (
  for entry in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    { [ -e "$entry" ] || [ -L "$entry" ]; } || continue
    there="$2/${'$'}{entry##*/}"
    if [ ! -e "$there" ] && [ ! -L "$there" ]; then
      mv "$entry" "$there" || true
    elif [ -d "$there" ] && [ ! -L "$there" ] && [ -d "$entry" ] && [ ! -L "$entry" ]; then
      move_in "$entry" "$there"
    fi
  done
)
say ""
say "Restoring the files of $COMPUTER from its backup of $BACKED_UP; this may take a while."
restic --cacert "$DIR/ca.pem" restore "$SNAPSHOT" --target "$staging" ||
  fail "the files could not be restored (restic's message is above; what arrived is in $staging), so nothing was backed up from this computer and no backup is scheduled yet: $AGAIN"
set -- $(tally "$staging")
restored=$1 restored_bytes=$2
[ ! -d "$staging/$FROM" ] || move_in "$staging/$FROM" "$TARGET"
# What was moved in leaves empty folders behind; rmdir takes only empty ones, the deepest first.
find "$staging" -depth -type d -exec rmdir {} + 2>/dev/null || true
left=0 left_bytes=0
if [ -d "$staging" ]; then set -- $(tally "$staging"); left=$1 left_bytes=$2; fi
say "Restored $(files $((restored - left))) ($(bytes $((restored_bytes - left_bytes)))) into $TARGET."
if [ -d "$staging" ]; then
  say "Not moved in, because something of the same name was already there (or it was not in the home folder of $COMPUTER): $(files "$left") ($(bytes "$left_bytes")), in $staging."
fi
say "Nothing that was on this computer before was changed."
say ""`;

/** The same steps in the Windows set-up (PowerShell), which never calls `exit`. */
export function powershellNewLaptopSteps(facts: RestoreFacts): SetupSteps {
  return {
    values: [
      `$KeptPassword = ${powershell(facts.password)}`,
      `$Snapshot = ${powershell(facts.snapshotId)}`,
      `$BackedUp = ${powershell(facts.backedUp)}`,
      `$From = ${powershell(facts.from)}`,
      `$Target = ${powershell(facts.target ?? '~')}`,
      `$NeedsMinor = ${facts.needsMinor}`,
    ].join('\r\n'),
    again: AGAIN,
    greeting: 'Write-Host "Setting up this computer as $($Computer): its files come back from its backup of $BackedUp, then it backs up to the server as $Computer did."',
    checkVersion: String.raw`if ($version.Success -and [int]$version.Groups[1].Value -eq 0 -and [int]$version.Groups[2].Value -lt $NeedsMinor) {
  Fail "restic 0.$($version.Groups[2].Value) on this computer is too old to read the backups of $Computer (they need restic 0.$NeedsMinor or newer): install a newer restic (restic.net), then $Again"
}`,
    // The kept password reached this script over the pinned connection; it goes into the folder only this user may open.
    password: String.raw`$keep = $false
WriteText $passwordFile $KeptPassword
$KeptPassword = ''`,
    missing: `    Fail "there are no backups of $Computer on the server (the backup desktop may be using another disk now): check its Storage page, then $Again"`,
    beforeBackup: POWERSHELL_RESTORE,
  };
}

const POWERSHELL_RESTORE = String.raw`$into = if ($Target -eq '~') { $env:USERPROFILE } elseif ($Target -match '^~[\\/]') { Join-Path $env:USERPROFILE $Target.Substring(2) } elseif ([IO.Path]::IsPathRooted($Target)) { $Target } else { Join-Path $env:USERPROFILE $Target }
New-Item -ItemType Directory -Force -Path $into | Out-Null
${powershellRestoreFolder('staging', '$into')}
function Tally([string]$Folder) {
  $measured = Get-ChildItem -LiteralPath $Folder -Recurse -Force -File -ErrorAction SilentlyContinue | Measure-Object -Property Length -Sum
  @([int64]$measured.Count, [int64]$measured.Sum)
}
function Size([double]$Bytes) {
  $units = 'bytes', 'KB', 'MB', 'GB', 'TB', 'PB'
  $i = 0
  while ($Bytes -ge 1000 -and $i -lt 5) { $Bytes /= 1000; $i++ }
  if ($i -eq 0) { "$Bytes bytes" } elseif ($Bytes -lt 10) { '{0:0.0} {1}' -f $Bytes, $units[$i] } else { '{0:0} {1}' -f $Bytes, $units[$i] }
}
function Files([int64]$Count) { if ($Count -eq 1) { '1 file' } else { "$Count files" } }
# Moves what $Source holds into $Destination, never over anything: a folder on both sides is entered, anything else already there stays.
function MoveIn([string]$Source, [string]$Destination) {
  foreach ($entry in @(Get-ChildItem -LiteralPath $Source -Force)) {
    $there = Join-Path $Destination $entry.Name
    if (-not (Test-Path -LiteralPath $there)) { Move-Item -LiteralPath $entry.FullName -Destination $there -ErrorAction Continue }
    elseif ($entry.PSIsContainer -and (Get-Item -LiteralPath $there -Force).PSIsContainer) { MoveIn $entry.FullName $there }
  }
}
Write-Host ''
Write-Host "Restoring the files of $Computer from its backup of $BackedUp; this may take a while."
& restic --cacert $ca restore $Snapshot --target $staging
if ($LASTEXITCODE -ne 0) { Fail "the files could not be restored (restic's message is above; what arrived is in $staging), so nothing was backed up from this computer and no backup is scheduled yet: $Again" }
$restored = Tally $staging
$old = Join-Path $staging $From
if (Test-Path -LiteralPath $old) { MoveIn $old $into }
# What was moved in leaves empty folders behind: the deepest go first, so their parents are seen empty after them.
Get-ChildItem -LiteralPath $staging -Recurse -Force -Directory | Sort-Object { $_.FullName.Length } -Descending | Where-Object { -not (Get-ChildItem -LiteralPath $_.FullName -Force) } | Remove-Item -Force
if (-not (Get-ChildItem -LiteralPath $staging -Force)) { Remove-Item -LiteralPath $staging -Force }
$left = if (Test-Path -LiteralPath $staging) { Tally $staging } else { @(0, 0) }
Write-Host "Restored $(Files ($restored[0] - $left[0])) ($(Size ($restored[1] - $left[1]))) into $into."
if (Test-Path -LiteralPath $staging) { Write-Host "Not moved in, because something of the same name was already there (or it was not in the home folder of $Computer): $(Files $left[0]) ($(Size $left[1])), in $staging." }
Write-Host 'Nothing that was on this computer before was changed.'
Write-Host ''`;
