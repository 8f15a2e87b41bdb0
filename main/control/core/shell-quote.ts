import type { Shell } from '../../contract.js';

/**
 * How one shell writes what the command lines need. `quote` makes any text a
 * single literal argument; `inFolder` names a file in the folder where the
 * app's files live on that computer (home-relative, so it is not quoted away).
 */
export interface ShellSyntax {
  shell: Shell;
  quote(value: string): string;
  /** A line that sets an environment variable for the commands that follow; undefined when this shell cannot carry the value. */
  setVariable(name: string, value: string): string | undefined;
  /** A line that sets a variable to an `inFolder` path, expanded when it runs. */
  setPath(name: string, path: string): string;
  comment(text: string): string;
  inFolder(fileName: string): string;
  home: string;
  /** A line that reads a settings file written for this shell. */
  load(fileName: string): string;
}

/** bash (Linux, macOS): single quotes keep everything literal; a quote itself is closed, escaped and reopened. */
const bash: ShellSyntax = {
  shell: 'bash',
  quote: (value) => `'${value.replaceAll("'", `'\\''`)}'`,
  setVariable: (name, value) => `export ${name}=${bash.quote(value)}`,
  setPath: (name, path) => `export ${name}=${path}`,
  comment: (text) => `# ${text}`,
  inFolder: (fileName) => `"$HOME/.config/restic/${fileName}"`,
  home: '"$HOME"',
  load: (fileName) => `. ${bash.inFolder(fileName)}`,
};

/** PowerShell: single-quoted strings are literal; a quote (any of the four PowerShell accepts) is doubled. */
const powershell: ShellSyntax = {
  shell: 'powershell',
  quote: (value) => `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, '$&$&')}'`,
  setVariable: (name, value) => `$env:${name} = ${powershell.quote(value)}`,
  setPath: (name, path) => `$env:${name} = ${path}`,
  comment: (text) => `# ${text}`,
  inFolder: (fileName) => `"$env:USERPROFILE\\restic\\${fileName}"`,
  home: '"$env:USERPROFILE"',
  load: (fileName) => `. ${powershell.inFolder(fileName)}`,
};

/**
 * cmd: values are set in a `.cmd` file, where `set "NAME=value"` keeps
 * & | < > ^ literal and `%` is written `%%`. A double quote cannot be
 * carried safely at all, so such a value is refused (the caller falls back).
 * Arguments typed at the prompt are double-quoted; Windows paths hold no quotes.
 */
const cmd: ShellSyntax = {
  shell: 'cmd',
  quote: (value) => `"${value}"`,
  setVariable: (name, value) => (value.includes('"') ? undefined : `set "${name}=${value.replaceAll('%', '%%')}"`),
  setPath: (name, path) => `set "${name}=${path.slice(1, -1)}"`,
  // Only text that cmd cannot read as an operator or a variable, even after rem.
  comment: (text) => `rem ${text.replace(/[%^&|<>"!]/g, '')}`,
  inFolder: (fileName) => `"%USERPROFILE%\\restic\\${fileName}"`,
  home: '"%USERPROFILE%"',
  load: (fileName) => `call ${cmd.inFolder(fileName)}`,
};

export const SHELLS: Record<Shell, ShellSyntax> = { bash, powershell, cmd };
