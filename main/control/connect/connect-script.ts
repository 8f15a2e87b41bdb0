import { SHELLS } from '../core/shell-quote.js';
import { POSIX_COMMAND } from './installed-command.js';
import { newLaptopSteps, type RestoreFacts } from './new-laptop-script.js';

/** What one computer's set-up script is made of. */
export interface SetupFacts {
  displayName: string;
  username: string;
  /** The fresh server password: only the script ever sees it. */
  password: string;
  /** `/annas-laptop/` */
  repoPath: string;
  port: number;
  /** Host names the certificate covers, then the address the line used: the first that answers with a valid certificate is kept. */
  hosts: string[];
  authorityPem: string;
  /** The line's code: the script's last request reports through it what it found (the system, restic's version). */
  code: string;
  /** For a new computer taking over an old one's backups: the kept encryption password and what to restore. */
  restore?: RestoreFacts;
}

const q = SHELLS.bash.quote;

/**
 * What the line says when curl gets no script: another server answered (its
 * key is not the pinned one), or none did. Printed by sh from inside double
 * quotes, so it holds no quote, dollar or backslash.
 */
const UNVERIFIED =
  'Restic Tray Server: the backup server could not be verified (its certificate is not the one this line expects, or it did not answer): make a new line in the app on the backup desktop (the computer page, Connect this computer) and check the address it shows.';

/**
 * The Linux and macOS line: curl fetches the set-up script with the
 * server's key pinned, and sh runs it. The address, which carries the
 * one-time code, reaches curl as its configuration on standard input
 * (`-K -`, written by the shell's own printf), never in an argument another
 * user of the computer could read in the process list. When curl fails,
 * sh gets a script that says so and ends non-zero instead of an empty one
 * that would succeed.
 */
export function posixLine(url: string, pin: string): string {
  const config = `url = "${url.replace(/[\\"]/g, '\\$&')}"`;
  return `( printf '%s\\n' ${q(config)} | curl -sS --insecure --pinnedpubkey ${q(pin)} -K - || echo ${q(`echo "${UNVERIFIED}" >&2; exit 1`)} ) | sh`;
}

/** A script that only prints why the server refused, for a line piped to sh. */
export function refusalScript(message: string): string {
  return `#!/bin/sh\nprintf '%s\\n' ${q(`Restic Tray Server: ${message}`)} >&2\nexit 1\n`;
}


/**
 * The steps in which a set-up differs: connecting a computer (these), or a
 * new computer taking over an old one's backups (`new-laptop-script.ts`).
 * Each is shell text put in its place in `setupScript`.
 */
export interface SetupSteps {
  /** Shell assignments the steps use. */
  values: string;
  /** What a failure says to do next, after "then". */
  again: string;
  greeting: string;
  /** Right after restic's version is read: its major and minor number are $1 and $2. */
  checkVersion: string;
  /** Puts the encryption password into $DIR/password; `keep=yes` sends it to be kept. */
  password: string;
  /** The repository is not on the server. */
  missing: string;
  /** Right before the first backup. */
  beforeBackup: string;
}

const CONNECT_STEPS: SetupSteps = {
  values: '',
  again: "run a new line from the app (the computer's page, Connect this computer): each line works once.",
  greeting: 'say "Connecting $COMPUTER to the backup server."',
  checkVersion: '',
  password: String.raw`keep=no
if [ ! -s "$DIR/password" ]; then
  say ""
  say "Choose the encryption password for this computer's backups."
  say "Without it nobody, not you and not the backup server, can restore them: write it down and keep it safe."
  while :; do
    ask_hidden "Encryption password (press Enter to have one made for you): "
    first=$answer
    if [ -z "$first" ]; then
      # tr ends on a closed pipe once head has its 24 characters: where SIGPIPE is ignored it says so, which is no error.
      first=$(LC_ALL=C tr -dc 'abcdefghjkmnpqrstuvwxyz23456789' < /dev/urandom 2>/dev/null | head -c 24 | sed 's/\(....\)/\1-/g; s/-$//')
      say ""
      say "Your encryption password is:  $first"
      say "Write this down now: without it nobody can restore these backups. It is not shown again."
      ask "Press Enter once it is written down. "
      break
    fi
    if [ ${'$'}{#first} -lt 8 ]; then say "At least 8 characters, please."; continue; fi
    ask_hidden "The same again: "
    [ "$answer" = "$first" ] && break
    say "The two were not the same; once more."
  done
  printf '%s' "$first" > "$DIR/password.new"
  mv "$DIR/password.new" "$DIR/password"
  say ""
  say "A copy kept on the backup desktop can be read by whoever uses that desktop's account, and with it these backups."
  keep=yes
  if [ "$terminal" = yes ]; then
    ask "Keep a copy of this password on the backup desktop, so your backups can be restored even if it is forgotten? [Y/n] "
    case "$answer" in [nN]*) keep=no ;; esac
  else
    say "No terminal to ask: a copy is kept there (the default), so that your backups can be restored even if the password is forgotten."
  fi
fi`,
  missing: String.raw`    if ! refused=$(restic --cacert "$DIR/ca.pem" init 2>&1 >/dev/null); then
      printf '%s\n' "$refused" >&2
      fail "the backup repository could not be created on the server (restic's message is above): check that the app shows the server running and its backup disk with room, then $AGAIN"
    fi
    say "The backup repository of $COMPUTER was created on the server."`,
  beforeBackup: '',
};

/**
 * The set-up script a "Connect this computer" line fetches, for Linux and
 * macOS (POSIX sh: it runs under dash, bash and macOS's sh). Its answers
 * come from the terminal, since the script itself arrives on standard
 * input; everything it writes goes into one folder only this user can
 * read. Running it again updates the login and the address, keeps the
 * encryption password and never re-creates the repository.
 */
export function setupScript(facts: SetupFacts): string {
  const steps = facts.restore ? newLaptopSteps(facts.restore) : CONNECT_STEPS;
  const values = [
    `COMPUTER=${q(facts.displayName)}`,
    `LOGIN_USER=${q(facts.username)}`,
    `LOGIN_PASSWORD=${q(facts.password)}`,
    `REPO_PATH=${q(facts.repoPath)}`,
    `PORT=${facts.port}`,
    `HOSTS=${q(facts.hosts.join(' '))}`,
    `AUTHORITY=${q(facts.authorityPem.trim())}`,
    `CODE=${q(facts.code)}`,
    steps.values,
  ].join('\n');
  return String.raw`#!/bin/sh
# Restic Tray Server: connects this computer to the family's backup server.
# Made for one computer; it carries its server login. Running it again is safe.
# All of it is one function, called on the last line: a download cut off anywhere runs nothing.
connect_this_computer() {
set -eu
umask 077
${values}
COMMAND_TEXT=${q(POSIX_COMMAND)}

say() { printf '%s\n' "$*"; }
fail() { printf 'Restic Tray Server: %s\n' "$*" >&2; trap - EXIT; exit 1; }
AGAIN=${q(steps.again)}
trap 'code=$?; [ "$code" -eq 0 ] || printf "Restic Tray Server: the set-up stopped unexpectedly (exit code %s); see the message above, then make a new line in the app.\n" "$code" >&2' EXIT
# This script arrives on standard input: answers come from the terminal. Without one (the line piped to a
# program), every question gets its default: a password is made, shown, and kept on the backup desktop.
if ( : </dev/tty ) 2>/dev/null; then exec 3</dev/tty; terminal=yes; else terminal=no; fi
ask() {
  answer=''
  [ "$terminal" = yes ] || return 0
  printf '%s' "$1" >/dev/tty
  IFS= read -r answer <&3 || answer=''
}
ask_hidden() {
  answer=''
  [ "$terminal" = yes ] || return 0
  printf '%s' "$1" >/dev/tty
  stty -echo <&3 2>/dev/null || true
  IFS= read -r answer <&3 || answer=''
  stty echo <&3 2>/dev/null || true
  printf '\n' >/dev/tty
}

${steps.greeting}

if ! command -v restic >/dev/null 2>&1; then
  install=''
  if command -v apt-get >/dev/null 2>&1; then install='sudo apt-get install -y restic'
  elif command -v dnf >/dev/null 2>&1; then install='sudo dnf install -y restic'
  elif command -v pacman >/dev/null 2>&1; then install='sudo pacman -S --noconfirm restic'
  elif command -v zypper >/dev/null 2>&1; then install='sudo zypper install -y restic'
  elif command -v brew >/dev/null 2>&1; then install='brew install restic'
  fi
  [ -n "$install" ] || fail "restic is not installed, and no package manager was found: install restic (restic.net), then $AGAIN"
  [ "$terminal" = yes ] || fail "restic, the backup program, is not installed: install it with $install, then $AGAIN"
  ask "restic, the backup program, is not installed. Install it now with: $install ? [Y/n] "
  case "$answer" in [nN]*) fail "restic is needed: install it, then $AGAIN" ;; esac
  $install <&3 || fail "restic could not be installed: install it by hand, then $AGAIN"
fi
version=$(restic version | sed -n 's/^restic \([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
set -- $version 0 0
${steps.checkVersion}
if [ "$1" -gt 0 ] || [ "$2" -ge 17 ]; then new_login=yes; else new_login=no; fi

DIR="${'$'}{XDG_CONFIG_HOME:-$HOME/.config}/restic-tray-server"
mkdir -p "$DIR"
chmod 700 "$DIR"
printf '%s\n' "$AUTHORITY" > "$DIR/ca.pem"

host=''
for candidate in $HOSTS; do
  case "$candidate" in *:*) address="[$candidate]" ;; *) address="$candidate" ;; esac
  # The probe logs in (its login through curl's configuration on standard input, out of the process list) and asks what
  # restic asks first, so the live log shows no refused login for it.
  if printf 'user = "%s:%s"\n' "$LOGIN_USER" "$LOGIN_PASSWORD" | curl -s -I -o /dev/null --max-time 5 --cacert "$DIR/ca.pem" -K - "https://$address:$PORT${'$'}{REPO_PATH}config"; then host="$address"; break; fi
done
[ -n "$host" ] || fail "the backup server does not answer with its certificate at any of: $HOSTS."

if [ "$new_login" = yes ]; then
  printf '%s\n' "rest:https://$host:$PORT$REPO_PATH" > "$DIR/repository.new"
  { printf "RESTIC_REST_USERNAME='%s'\n" "$LOGIN_USER"; printf "RESTIC_REST_PASSWORD='%s'\n" "$LOGIN_PASSWORD"; } > "$DIR/login.new"
else
  printf '%s\n' "rest:https://$LOGIN_USER:$LOGIN_PASSWORD@$host:$PORT$REPO_PATH" > "$DIR/repository.new"
  : > "$DIR/login.new"
fi
mv "$DIR/repository.new" "$DIR/repository"
mv "$DIR/login.new" "$DIR/login"
{
  printf '%s\n' "RESTIC_REPOSITORY_FILE='$DIR/repository'" "RESTIC_PASSWORD_FILE='$DIR/password'"
  printf '%s\n' ". '$DIR/login'"
} > "$DIR/settings"
[ -s "$DIR/paths" ] || printf '%s\n' "$HOME" > "$DIR/paths"

${steps.password}
printf '%s' "$COMMAND_TEXT" > "$DIR/restic-tray-backup"
chmod 700 "$DIR/restic-tray-backup"
mkdir -p "$HOME/.local/bin"
ln -sf "$DIR/restic-tray-backup" "$HOME/.local/bin/restic-tray-backup"

. "$DIR/settings"
export RESTIC_REPOSITORY_FILE RESTIC_PASSWORD_FILE
[ "$new_login" = yes ] && export RESTIC_REST_USERNAME RESTIC_REST_PASSWORD
# Is the repository there, and does this password open it? Anything but a clear answer is asked again
# twice (a server the app is restarting refuses for a moment), then shown as restic said it.
state=''
tries=0
while [ -z "$state" ]; do
  if found=$(restic --cacert "$DIR/ca.pem" cat config 2>&1 >/dev/null); then
    state=there
  else
    case "$found" in
      *'does not exist'*) state=missing ;;
      *'wrong password'*) state=other-password ;;
      *'(401)'*) state=refused ;;
      *)
        tries=$((tries + 1))
        if [ "$tries" -ge 3 ]; then
          printf '%s\n' "$found" >&2
          fail "the backup server did not answer restic as expected (restic's message is above): check that the app shows the server running, then $AGAIN"
        fi
        say "The backup server did not answer as expected; asking again in 3 seconds. restic said: $(printf '%s\n' "$found" | head -n 1)"
        sleep 3 ;;
    esac
  fi
done
case "$state" in
  there) say "The backups of $COMPUTER are already on the server: they go on from there." ;;
  refused) fail "the backup server refused the login this set-up carries: the computer's server password was changed after it was made: $AGAIN" ;;
  other-password) fail "the backups of $COMPUTER are on the server, but the encryption password in $DIR/password does not open them: put the right one there, then $AGAIN" ;;
  missing)
${steps.missing} ;;
esac
if [ "$keep" = yes ]; then
  # The app opens the backups with it before keeping it. The line's code allows this once; the password goes in the
  # request's body, read from its file (out of the process list), and the address on standard input.
  kept=$(printf 'url = "%s"\n' "https://$host:$PORT/.connect/$CODE/keep" | curl -sS --max-time 300 --cacert "$DIR/ca.pem" -K - --data-binary @"$DIR/password" 2>&1) ||
    kept="The backup desktop did not answer, so the password is not kept there ($kept): keep it on the computer's page in the app."
  say "$kept"
fi

${steps.beforeBackup}
say "The first backup starts now; it may take a while."
"$DIR/restic-tray-backup" backup || fail "the backup did not finish: see restic's message above, then run: restic-tray-backup backup"

schedule='none'
if [ "$(uname -s)" = Darwin ]; then
  plist="$HOME/Library/LaunchAgents/org.restic-tray-server.backup.plist"
  mkdir -p "$HOME/Library/LaunchAgents"
  cat > "$plist" <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>Label</key><string>org.restic-tray-server.backup</string>
<key>ProgramArguments</key><array><string>$DIR/restic-tray-backup</string><string>backup</string><string>--if-due</string></array>
<key>StartInterval</key><integer>3600</integer>
<key>RunAtLoad</key><true/>
</dict></plist>
PLIST
  launchctl unload "$plist" 2>/dev/null || true
  launchctl load -w "$plist" && schedule='launchd'
elif command -v systemctl >/dev/null 2>&1; then
  units="$HOME/.config/systemd/user"
  mkdir -p "$units"
  printf '%s\n' '[Unit]' 'Description=Backup to Restic Tray Server' '' '[Service]' 'Type=oneshot' "ExecStart=$DIR/restic-tray-backup backup --if-due" > "$units/restic-tray-backup.service"
  printf '%s\n' '[Unit]' 'Description=Daily backup to Restic Tray Server' '' '[Timer]' 'OnCalendar=hourly' 'Persistent=true' 'RandomizedDelaySec=10min' '' '[Install]' 'WantedBy=timers.target' > "$units/restic-tray-backup.timer"
  if systemctl --user daemon-reload >/dev/null 2>&1 && systemctl --user enable --now restic-tray-backup.timer >/dev/null 2>&1; then schedule='systemd'; fi
fi
if [ "$schedule" = none ] && command -v crontab >/dev/null 2>&1; then
  { crontab -l 2>/dev/null | grep -v restic-tray-backup || true; printf '%s\n' "17 * * * * '$DIR/restic-tray-backup' backup --if-due >/dev/null 2>&1"; } | crontab - && schedule='cron'
fi

found=$(restic version | sed -n 's/^restic \([0-9][0-9.]*\) .*/\1/p')
case "$schedule" in none) planned=not-scheduled ;; *) planned=scheduled ;; esac
# The address carries the line's code: it reaches curl on standard input, not in the process list.
printf 'url = "%s"\n' "https://$host:$PORT/.connect/$CODE/report/$(uname -s)/$found/$planned" | curl -s -o /dev/null --max-time 5 --cacert "$DIR/ca.pem" -K - || true

say ""
say "Done: $COMPUTER backs up to the server."
case "$schedule" in
  none) say "No scheduler was found on this computer (no systemd timer, no cron): it backs up only when you run restic-tray-backup backup. Run it now and then, or install cron and run a new line from the app." ;;
  *) say "A backup runs every day (checked hourly, so a day the computer was off is caught up; by $schedule)." ;;
esac
say "restic-tray-backup status shows the last backup; restic-tray-backup uninstall stops the schedule (the backups stay)."
say "Settings and the encryption password are in $DIR (readable only by you)."
# The command is in ~/.local/bin: when that folder is not on PATH, the shells' profiles add it (once: the marker says it is there).
BIN="$HOME/.local/bin"
case ":$PATH:" in
  *":$BIN:"*) say "The command restic-tray-backup is in $BIN." ;;
  *)
    profiles='.profile'
    for name in .bash_profile .bashrc .zshrc; do if [ -f "$HOME/$name" ]; then profiles="$profiles $name"; fi; done
    case "${'$'}{SHELL:-}" in *zsh) [ -f "$HOME/.zshrc" ] || profiles="$profiles .zshrc" ;; esac
    for name in $profiles; do
      grep -qs '# Restic Tray Server: restic-tray-backup' "$HOME/$name" ||
        printf '\n%s\n%s\n' '# Restic Tray Server: restic-tray-backup is in ~/.local/bin' 'case ":$PATH:" in *":$HOME/.local/bin:"*) ;; *) export PATH="$HOME/.local/bin:$PATH" ;; esac' >> "$HOME/$name"
    done
    say "restic-tray-backup is in $BIN; that folder was added to your PATH in ~/$(printf '%s' "$profiles" | sed 's| |, ~/|g'): open a new terminal to use it." ;;
esac
}
connect_this_computer
`;
}
