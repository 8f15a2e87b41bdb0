import { powershellRestoreFolder, shRestoreFolder } from './restore-folder.js';

/**
 * The small command the set-up installs on a computer, `restic-tray-backup`,
 * which runs restic with the settings beside it: `backup` (with `--if-due`
 * for the schedule: only when the last good backup is 20 hours old),
 * `status`, `snapshots`, `restore [SNAPSHOT] [PATH…] [--target FOLDER]`
 * (the latest backup by default, into a new dated folder that never
 * overwrites anything), `find PATTERN`, `mount FOLDER` (where FUSE is),
 * `check`, and `uninstall` (the schedule and the command go, the backups
 * and the settings' files stay).
 */
export const POSIX_COMMAND = String.raw`#!/bin/sh
# restic-tray-backup: this computer's backups to Restic Tray Server.
set -eu
self=$0
[ -L "$self" ] && self=$(readlink "$self")
DIR=$(CDPATH= cd -- "$(dirname -- "$self")" && pwd)
. "$DIR/settings"
export RESTIC_REPOSITORY_FILE RESTIC_PASSWORD_FILE
[ -n "${'$'}{RESTIC_REST_USERNAME:-}" ] && export RESTIC_REST_USERNAME RESTIC_REST_PASSWORD
USAGE='usage: restic-tray-backup backup | status | snapshots | restore [SNAPSHOT] [PATH...] [--target FOLDER] | find PATTERN | mount FOLDER | check | uninstall'
r() { restic --cacert "$DIR/ca.pem" "$@"; }
now() { date +%s; }
last_good() { [ -s "$DIR/last-good" ] && cat "$DIR/last-good" || echo 0; }
say_time() { date -d "@$1" 2>/dev/null || date -r "$1"; }
refuse() { printf 'restic-tray-backup: %s\n' "$*" >&2; exit 2; }
case "${'$'}{1:-}" in
backup)
  if [ "${'$'}{2:-}" = --if-due ] && [ $(( $(now) - $(last_good) )) -lt 72000 ]; then exit 0; fi
  started=$(now)
  code=0
  r backup --files-from "$DIR/paths" --exclude-caches --exclude "$HOME/.cache" --exclude "$DIR" || code=$?
  # 3: the backup was saved, without some files restic could not read (it named them); as on Windows, it counts.
  if [ "$code" -eq 0 ] || [ "$code" -eq 3 ]; then
    echo "$started ok" > "$DIR/last-run"; echo "$started" > "$DIR/last-good"
  else
    echo "$started failed $code" > "$DIR/last-run"
  fi
  exit "$code" ;;
status)
  if [ -s "$DIR/last-run" ]; then
    set -- $(cat "$DIR/last-run")
    echo "Last backup: $(say_time "$1"): ${'$'}{2}${'$'}{3:+ (exit code $3)}"
  else
    echo "Last backup: none yet"
  fi
  if [ -f "$HOME/.config/systemd/user/restic-tray-backup.timer" ] && systemctl --user is-enabled restic-tray-backup.timer >/dev/null 2>&1; then
    echo "Next backup: $(systemctl --user show restic-tray-backup.timer -p NextElapseUSecRealtime --value) (a systemd timer; missed runs catch up)"
  elif crontab -l 2>/dev/null | grep -q restic-tray-backup || [ -f "$HOME/Library/LaunchAgents/org.restic-tray-server.backup.plist" ]; then
    echo "Next backup: within the hour after $(say_time $(( $(last_good) + 72000 ))) while the computer is on (checked hourly)"
  else
    echo "Next backup: not scheduled (run: restic-tray-backup backup)"
  fi ;;
snapshots) r snapshots ;;
restore)
  shift
  snapshot=latest
  # The first word names the backup when it is one (latest, or a snapshot's ID); the rest are what to take from it.
  if [ $# -gt 0 ] && { [ "$1" = latest ] || printf '%s\n' "$1" | grep -Eqx '[0-9a-f]{8,64}'; }; then snapshot=$1; shift; fi
  target=''
  want=''
  for arg do
    shift
    if [ "$want" = target ]; then target=$arg; want=''; continue; fi
    case "$arg" in
      --target) want=target ;;
      --target=*) target=${'$'}{arg#--target=} ;;
      /*) set -- "$@" --include "$arg" ;;
      *) set -- "$@" --include "$PWD/$arg" ;;
    esac
  done
  [ -z "$want" ] || refuse "--target needs a folder."
  if [ -n "$target" ]; then
    # restic would write over files of the same name: only a new or empty folder is taken.
    if [ -e "$target" ] && [ -n "$(ls -A "$target" 2>/dev/null || echo file)" ]; then
      refuse "$target is not empty: give a new folder, or leave out --target to have one made."
    fi
    mkdir -p "$target"
  else
${shRestoreFolder('target', '$HOME', 'refuse "no new folder could be made in $HOME: give one with --target."', '    ')}
  fi
  r restore "$snapshot" --target "$target" "$@"
  echo "Restored into $target: each file is there under its whole path (such as $target$HOME)." ;;
find)
  shift
  [ $# -gt 0 ] || refuse "say what to look for, such as: restic-tray-backup find '*.pdf'"
  r find "$@" ;;
mount)
  [ -n "${'$'}{2:-}" ] || refuse "say in which folder to show the backups, such as: restic-tray-backup mount ~/backups"
  if [ "$(uname -s)" = Darwin ]; then
    [ -d /Library/Filesystems/macfuse.fs ] || refuse "showing the backups as a folder needs macFUSE, which this Mac does not have (brew install --cask macfuse, or osxfuse.github.io). restic-tray-backup restore and find work without it."
  elif [ ! -e /dev/fuse ] || { ! command -v fusermount >/dev/null 2>&1 && ! command -v fusermount3 >/dev/null 2>&1; }; then
    refuse "showing the backups as a folder needs FUSE, which this computer does not have (on Debian or Ubuntu: sudo apt-get install fuse3). restic-tray-backup restore and find work without it."
  fi
  mkdir -p "$2"
  echo "The backups appear in $2 until you press Ctrl-C here."
  r mount "$2" ;;
check) shift; r check "$@" ;;
uninstall)
  if [ -f "$HOME/.config/systemd/user/restic-tray-backup.timer" ]; then
    systemctl --user disable --now restic-tray-backup.timer >/dev/null 2>&1 || true
    rm -f "$HOME/.config/systemd/user/restic-tray-backup.timer" "$HOME/.config/systemd/user/restic-tray-backup.service"
  fi
  if crontab -l 2>/dev/null | grep -q restic-tray-backup; then crontab -l | grep -v restic-tray-backup | crontab -; fi
  plist="$HOME/Library/LaunchAgents/org.restic-tray-server.backup.plist"
  if [ -f "$plist" ]; then launchctl unload "$plist" 2>/dev/null || true; rm -f "$plist"; fi
  rm -f "$HOME/.local/bin/restic-tray-backup"
  echo "The daily backup is no longer scheduled. The backups stay on the server; the settings and the encryption password stay in $DIR." ;;
*) echo "$USAGE" >&2; exit 2 ;;
esac
`;

/** The same command on Windows (restic-tray-backup.ps1, run through a .cmd beside it on PATH); `mount` says why it cannot be. */
export const POWERSHELL_COMMAND = String.raw`param([string]$Action, [switch]$IfDue, [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest)
$ErrorActionPreference = 'Stop'
$Dir = $PSScriptRoot
$TaskName = 'Restic Tray Server backup'
$env:RESTIC_REPOSITORY_FILE = Join-Path $Dir 'repository'
$env:RESTIC_PASSWORD_FILE = Join-Path $Dir 'password'
$login = Join-Path $Dir 'login.ps1'
if (Test-Path -LiteralPath $login) { . $login }
$ca = Join-Path $Dir 'ca.pem'
$words = @($Rest | Where-Object { $_ })
function LastGood { $file = Join-Path $Dir 'last-good'; if (Test-Path -LiteralPath $file) { [long](Get-Content -LiteralPath $file) } else { 0 } }
$now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
switch ($Action) {
  'backup' {
    if ($IfDue -and ($now - (LastGood)) -lt 72000) { return }
    $paths = Get-Content -LiteralPath (Join-Path $Dir 'paths.txt') | Where-Object { $_ -and (Test-Path -LiteralPath $_) }
    & restic --cacert $ca backup --exclude-caches --exclude (Join-Path $env:USERPROFILE 'AppData') --exclude $Dir @paths
    $code = $LASTEXITCODE
    if ($code -eq 0 -or $code -eq 3) {
      Set-Content (Join-Path $Dir 'last-run') "$now ok"
      Set-Content (Join-Path $Dir 'last-good') "$now"
    } else {
      Set-Content (Join-Path $Dir 'last-run') "$now failed $code"
      throw "restic ended with exit code $code"
    }
  }
  'status' {
    $file = Join-Path $Dir 'last-run'
    if (Test-Path -LiteralPath $file) {
      $last = (Get-Content -LiteralPath $file) -split ' '
      Write-Host ('Last backup: ' + [DateTimeOffset]::FromUnixTimeSeconds([long]$last[0]).LocalDateTime + ': ' + $last[1])
    } else { Write-Host 'Last backup: none yet' }
    $task = Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    if ($task) { Write-Host ('Next backup: ' + (Get-ScheduledTaskInfo -TaskName $TaskName).NextRunTime + ' (Task Scheduler; a missed day runs when the computer is on again)') }
    else { Write-Host 'Next backup: not scheduled (run: restic-tray-backup backup)' }
  }
  'snapshots' { & restic --cacert $ca snapshots }
  'restore' {
    # The first word names the backup when it is one (latest, or a snapshot's ID); the rest are what to take from it.
    $snapshot = 'latest'
    $target = ''
    $include = @()
    $at = 0
    if ($words.Count -gt 0 -and $words[0] -cmatch '^(latest|[0-9a-f]{8,64})$') { $snapshot = $words[0]; $at = 1 }
    for (; $at -lt $words.Count; $at++) {
      if ($words[$at] -eq '--target') {
        $at++
        if ($at -ge $words.Count) { throw 'restic-tray-backup: --target needs a folder.' }
        $target = $words[$at]
      } else { $include += '--include'; $include += [IO.Path]::GetFullPath($words[$at]) }
    }
    if ($target) {
      # restic would write over files of the same name: only a new or empty folder is taken.
      if ((Test-Path -LiteralPath $target) -and (Get-ChildItem -LiteralPath $target -Force | Select-Object -First 1)) { throw "restic-tray-backup: $target is not empty: give a new folder, or leave out --target to have one made." }
      New-Item -ItemType Directory -Force -Path $target | Out-Null
    } else {
${powershellRestoreFolder('target', '$env:USERPROFILE', '      ')}
    }
    & restic --cacert $ca restore $snapshot --target $target @include
    if ($LASTEXITCODE -ne 0) { throw "restic ended with exit code $LASTEXITCODE" }
    Write-Host "Restored into $($target): each file is there under its whole path (such as $target\C\Users)."
  }
  'find' {
    if ($words.Count -eq 0) { throw "restic-tray-backup: say what to look for, such as: restic-tray-backup find '*.pdf'" }
    & restic --cacert $ca find @words
  }
  'mount' { throw 'restic-tray-backup: showing the backups as a folder needs FUSE, which Windows does not have: use restic-tray-backup restore, and find to look for a file.' }
  'check' { & restic --cacert $ca check @words }
  'uninstall' {
    Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false -ErrorAction SilentlyContinue
    Remove-Item (Join-Path $env:LOCALAPPDATA 'Microsoft\WindowsApps\restic-tray-backup.cmd') -ErrorAction SilentlyContinue
    Write-Host "The daily backup is no longer scheduled. The backups stay on the server; the settings and the encryption password stay in $Dir."
  }
  default { Write-Host 'usage: restic-tray-backup backup | status | snapshots | restore [SNAPSHOT] [PATH...] [--target FOLDER] | find PATTERN | mount FOLDER | check | uninstall' }
}
`;
