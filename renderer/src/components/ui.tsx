import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Colour, LoginCreated } from '../../../main/contract.js';
import { messageOf } from '../api.js';

/** How long a switch waits for the app's state to confirm a change. */
const CONFIRM_MS = 1500;

/** Runs one action at a time and keeps its error where it happened. */
export function useAction(): { busy: boolean; error: string | null; run: <T>(action: () => Promise<T>) => Promise<T | undefined>; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (failure) {
      setError(messageOf(failure));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, clear: () => setError(null) };
}

export function ErrorText({ error }: { error: string | null }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

/** Says why the button it describes is disabled (the button names this `id` in `aria-describedby`). */
export function WhyDisabled({ id, reason }: { id: string; reason: string | null }) {
  return reason ? (
    <p class="hint" id={id}>
      {reason}
    </p>
  ) : null;
}

/** A question before an action that is hard to undo: what it means, then "no" first and "yes" in red. */
export function Confirm({
  id,
  question,
  children,
  yes,
  no,
  onYes,
  onNo,
  busy,
}: {
  id: string;
  question: string;
  children: ComponentChildren;
  yes: string;
  no: string;
  onYes: () => void;
  onNo: () => void;
  busy?: boolean;
}) {
  return (
    <div class="warning confirm" role="alertdialog" aria-labelledby={`${id}-question`} aria-describedby={`${id}-detail`}>
      <p>
        <strong id={`${id}-question`}>{question}</strong>
      </p>
      <p id={`${id}-detail`}>{children}</p>
      <div class="button-row">
        <button type="button" class="button" onClick={onNo}>
          {no}
        </button>
        <button type="button" class="button danger" disabled={busy} onClick={onYes}>
          {yes}
        </button>
      </div>
    </div>
  );
}

/** A card; with `id`, its title names it (for screen readers) and it can be scrolled to. */
export function Card({ title, children, actions, class: extra, id }: { title?: string; children: ComponentChildren; actions?: ComponentChildren; class?: string; id?: string }) {
  return (
    <section class={`card ${extra ?? ''}`} id={id} aria-labelledby={id && title ? `${id}-title` : undefined}>
      {(title || actions) && (
        <header class="card-head">
          {title && <h2 id={id && `${id}-title`}>{title}</h2>}
          {actions && <div class="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function Dot({ colour }: { colour: Colour }) {
  return <span class={`dot dot-${colour}`} aria-hidden="true" />;
}

export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'muted'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function Meter({ used, label }: { used: number; label: string }) {
  const percent = Math.max(0, Math.min(100, used * 100));
  const tone = percent >= 99 ? 'bad' : percent >= 90 ? 'warn' : 'ok';
  return (
    <div class="meter" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(percent)}>
      <div class={`meter-fill meter-${tone}`} style={{ width: `${percent}%` }} />
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState<'copied' | 'failed' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('copied');
    } catch {
      setDone('failed');
    }
    setTimeout(() => setDone(null), 2000);
  };
  return (
    <button type="button" class="button small" onClick={copy}>
      {done === 'copied' ? 'Copied' : done === 'failed' ? 'Select and copy by hand' : label}
    </button>
  );
}

/** A text field with its label and an optional hint under it; `secret` hides what is typed. */
export function Field({ id, label, value, onInput, hint, secret, placeholder, narrow }: { id: string; label: string; value: string; onInput: (value: string) => void; hint?: string; secret?: boolean; placeholder?: string; narrow?: boolean }) {
  const common = {
    id,
    class: narrow ? 'narrow' : undefined,
    value,
    placeholder,
    onInput: (event: Event) => onInput((event.target as HTMLInputElement).value),
    'aria-describedby': hint ? `${id}-hint` : undefined,
  };
  return (
    <>
      <label for={id}>{label}</label>
      {secret ? <input type="password" autocomplete="off" {...common} /> : <input type="text" {...common} />}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </>
  );
}

/**
 * A switch that moves at once when clicked; the app's next state confirms it
 * (or, if the change was refused, puts it back).
 */
export function Toggle({ checked, onChange, label, hint, disabled }: { checked: boolean; onChange: (value: boolean) => unknown; label: string; hint?: string; disabled?: boolean }) {
  const [shown, setShown] = useState(checked);
  const [saving, setSaving] = useState(false);
  const truth = useRef(checked);
  truth.current = checked;
  // After a save the switch shows the saved value again; a newer change cancels that (it would show the older value).
  const settle = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => setShown(checked), [checked]);
  useEffect(() => () => clearTimeout(settle.current), []);
  const change = async (value: boolean) => {
    clearTimeout(settle.current);
    setShown(value);
    setSaving(true);
    try {
      await onChange(value);
    } finally {
      setSaving(false);
      settle.current = setTimeout(() => setShown(truth.current), CONFIRM_MS);
    }
  };
  return (
    <label class="toggle">
      <input type="checkbox" role="switch" checked={shown} disabled={disabled} aria-busy={saving} onChange={(event) => void change((event.target as HTMLInputElement).checked)} />
      <span class="toggle-track" aria-hidden="true" />
      <span class="toggle-text">
        <span class="toggle-label">{label}</span>
        {saving ? <span class="hint">Saving…</span> : hint && <span class="hint">{hint}</span>}
      </span>
    </label>
  );
}

/** A command or file to copy: monospace, selectable, with its copy button. */
export function CodeBlock({ label, code, name }: { label: string; code: string; name?: string }) {
  return (
    <div class="code-block">
      <div class="code-head">
        <span>{label}</span>
        <CopyButton text={code} label={name ? `Copy ${name}` : 'Copy'} />
      </div>
      <pre>
        <code>{code}</code>
      </pre>
    </div>
  );
}

/** The button that makes a one-time line: the page's main action until a line is made, then it makes a new one. */
export function MakeLineButton({ made, busy, label, again, onMake }: { made: boolean; busy: boolean; label: string; again: string; onMake: () => void }) {
  return (
    <button type="button" class={`button ${made ? '' : 'primary'}`} disabled={busy} onClick={onMake}>
      {made ? again : label}
    </button>
  );
}

/** A new login: shown once, with what to do with it. */
export function PasswordOnce({ login, onDone }: { login: LoginCreated; onDone?: () => void }) {
  return (
    <div class="password-once" role="status">
      <h3>Server login for {login.username}</h3>
      <p>
        This password is shown <strong>only now</strong>. The commands below already contain it; copy them now, or write it down. If it is lost,
        reset it: nothing else changes.
      </p>
      <dl class="login">
        <dt>User name</dt>
        <dd>
          <code>{login.username}</code>
        </dd>
        <dt>Password</dt>
        <dd>
          <code class="secret">{login.password}</code> <CopyButton text={login.password} label="Copy password" />
        </dd>
      </dl>
      {onDone && (
        <button type="button" class="button" onClick={onDone}>
          I have saved it
        </button>
      )}
    </div>
  );
}

/** Saves text as a file through the browser's download. */
export function download(fileName: string, text: string, type = 'application/x-pem-file'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
