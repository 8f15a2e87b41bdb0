import { SHELLS } from '../core/shell-quote.js';
import type { SetupSteps } from './connect-script.js';

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

/**
 * A new computer's set-up, for Linux and macOS: the connect line's, with
 * the kept encryption password instead of a new one, and the newest backup
 * restored before the first backup (a backup of the nearly empty computer
 * must never become the newest one). restic writes over files of the same
 * name, so it restores into a new folder beside the target, on the same
 * disk, and only what is not there yet is moved in: a new computer's own
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
staging="$TARGET/restic-restore-$(date +%Y-%m-%d)"
n=1
until mkdir "$staging" 2>/dev/null; do
  n=$((n + 1))
  [ "$n" -le 999 ] || fail "no new folder could be made in $TARGET to restore into: $AGAIN"
  staging="$TARGET/restic-restore-$(date +%Y-%m-%d)-$n"
done
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
