/**
 * The new folder a computer's scripts restore into: `restic-restore-<date>`
 * inside a parent folder, then `-2`, `-3`… on the same day. It is never one
 * already there, so restic writes over nothing. The same lines serve the
 * installed command and a new computer's set-up.
 */

const indented = (lines: string[], indent: string) => lines.map((line) => indent + line).join('\n');

/**
 * POSIX sh: makes the folder in `parent` (a shell word, such as `$HOME`)
 * and sets `$variable` to it; `giveUp` runs when 999 are taken. `mkdir` is
 * the test, so a folder made meanwhile is never taken.
 */
export function shRestoreFolder(variable: string, parent: string, giveUp: string, indent = ''): string {
  return indented(
    [
      `base="${parent}/restic-restore-$(date +%Y-%m-%d)"`,
      `${variable}=$base`,
      'n=1',
      `until mkdir "$${variable}" 2>/dev/null; do`,
      '  n=$((n + 1))',
      `  [ "$n" -le 999 ] || ${giveUp}`,
      `  ${variable}="$base-$n"`,
      'done',
    ],
    indent,
  );
}

/**
 * PowerShell: the same, with `parent` a PowerShell expression. Paths are
 * taken literally: a folder named with brackets is not read as a wildcard
 * (which would find nothing there and so take a folder that exists).
 */
export function powershellRestoreFolder(variable: string, parent: string, indent = ''): string {
  return indented(
    [
      `$base = Join-Path ${parent} ('restic-restore-' + (Get-Date -Format 'yyyy-MM-dd'))`,
      `$${variable} = $base`,
      '$n = 1',
      `while (Test-Path -LiteralPath $${variable}) { $n++; $${variable} = "$base-$n" }`,
      `New-Item -ItemType Directory -Path $${variable} | Out-Null`,
    ],
    indent,
  );
}
