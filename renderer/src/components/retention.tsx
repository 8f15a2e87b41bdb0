import { useEffect, useState } from 'preact/hooks';
import type { ComputerCare, ComputerOverview, RetentionPolicy, RetentionPreset, RetentionPreview } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatBytes, formatDay, formatTime, plural } from '../format.js';
import { Confirm, ErrorText, useAction, WhyDisabled } from './ui.js';

/** The named policies (the same as main/control/caretaker/retention.ts), in the family's words. */
const PRESETS: { name: Exclude<RetentionPreset, 'custom'>; label: string; hint: string; policy: RetentionPolicy }[] = [
  { name: 'standard', label: 'Standard', hint: 'a good balance for most disks', policy: { withinDays: 2, daily: 7, weekly: 5, monthly: 12, yearly: 3 } },
  { name: 'lean', label: 'Fewer', hint: 'for a small or nearly full disk', policy: { withinDays: 1, daily: 7, weekly: 4, monthly: 6, yearly: 0 } },
  { name: 'generous', label: 'More', hint: 'for a big disk: older versions stay longer', policy: { withinDays: 7, daily: 14, weekly: 8, monthly: 24, yearly: 10 } },
];
const RULES: { key: keyof RetentionPolicy; label: string }[] = [
  { key: 'withinDays', label: 'All from the last days' },
  { key: 'daily', label: 'Daily' },
  { key: 'weekly', label: 'Weekly' },
  { key: 'monthly', label: 'Monthly' },
  { key: 'yearly', label: 'Yearly' },
];
/** Enough lines to see which backups go; the count says the rest. */
const SHOWN = 12;

const same = (a: RetentionPolicy, b: RetentionPolicy) => RULES.every((rule) => a[rule.key] === b[rule.key]);
const presetOf = (policy: RetentionPolicy): RetentionPreset => PRESETS.find((preset) => same(preset.policy, policy))?.name ?? 'custom';

function inWords(policy: RetentionPolicy): string {
  const parts = [
    policy.daily > 0 && plural(policy.daily, 'day'),
    policy.weekly > 0 && plural(policy.weekly, 'week'),
    policy.monthly > 0 && plural(policy.monthly, 'month'),
    policy.yearly > 0 && plural(policy.yearly, 'year'),
  ].filter((part): part is string => typeof part === 'string');
  const newest = parts.length === 0 ? '' : `the newest of each of the last ${parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`}`;
  const recent = policy.withinDays > 0 ? `Every backup from the last ${plural(policy.withinDays, 'day')}` : '';
  return `${[recent, newest].filter(Boolean).join(', then ').replace(/^t/, 'T')}.`;
}

/** Which backups a computer keeps: a preset or its own policy (saved for the weekly run), its preview, and removing the others now. */
export function Retention({ computer, care, kept, spaceLow }: { computer: ComputerOverview; care: ComputerCare; kept: boolean; spaceLow: boolean }) {
  const [policy, setPolicy] = useState<RetentionPolicy>(care.policy);
  const [preview, setPreview] = useState<RetentionPreview | null>(null);
  const [confirm, setConfirm] = useState(false);
  const action = useAction();
  const saved = same(policy, care.policy);
  // Another window (or the tray) may change the saved policy: follow it while nothing is being edited here.
  useEffect(() => setPolicy(care.policy), [JSON.stringify(care.policy)]);
  const name = computer.displayName;
  return (
    <section aria-labelledby="retention-title">
      <h4 id="retention-title">Which backups are kept</h4>
      {kept && spaceLow && (
        <p class="warn-text" role="alert">
          Less than 10% of the backup disk is free. Removing old backups makes room: preview what goes, then remove them now.
        </p>
      )}
      <div class="preset-row" role="radiogroup" aria-label="How many old backups to keep">
        {[...PRESETS, { name: 'custom' as const, label: 'Custom', hint: 'your own numbers below', policy }].map((preset) => (
          <label key={preset.name} class="preset">
            <input type="radio" name={`preset-${computer.username}`} checked={presetOf(policy) === preset.name} onChange={() => setPolicy(preset.policy)} />
            <span>
              <strong>{preset.label}</strong> <span class="hint">{preset.hint}</span>
            </span>
          </label>
        ))}
      </div>
      <p class="muted">{inWords(policy)}</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => setPreview(await api.previewRetention({ username: computer.username, policy })));
        }}
      >
        <div class="row-form">
          {RULES.map((rule) => (
            <div class="field narrow" key={rule.key}>
              <label for={`keep-${rule.key}`}>{rule.label}</label>
              <input
                id={`keep-${rule.key}`}
                type="number"
                min={0}
                value={policy[rule.key]}
                onInput={(event) => setPolicy({ ...policy, [rule.key]: Number((event.target as HTMLInputElement).value) })}
              />
            </div>
          ))}
        </div>
        <div class="button-row">
          <button type="button" class="button primary" disabled={saved || action.busy} onClick={() => void action.run(() => api.setRetentionPolicy({ username: computer.username, policy }))}>
            {saved ? 'Saved' : 'Save this choice'}
          </button>
          {kept && (
            <button type="submit" class="button" disabled={action.busy}>
              {action.busy ? 'Asking restic…' : 'Preview'}
            </button>
          )}
        </div>
      </form>
      {!kept && <p class="muted">Keep the encryption password above to see the preview: restic needs it to read which backups there are.</p>}
      <ErrorText error={action.error} />
      {preview && (
        <div role="status">
          <p>
            restic would keep {plural(preview.keep.length, 'backup')} and remove {plural(preview.forget.length, 'backup')}.
            {preview.forget.length > 0 && ` That frees about ${formatBytes(preview.freedBytes)} on the backup disk.`}
          </p>
          {preview.forget.length > 0 && (
            <ul class="retention-forget">
              {preview.forget.slice(0, SHOWN).map((line) => (
                <li key={line.id}>
                  {formatDay(line.time)} {formatTime(line.time)} · {line.host}
                </li>
              ))}
              {preview.forget.length > SHOWN && <li>and {plural(preview.forget.length - SHOWN, 'more backup')}</li>}
            </ul>
          )}
        </div>
      )}
      {kept &&
        (confirm ? (
          <Confirm
            id="run-retention"
            question={`Remove ${name}’s old backups now?`}
            yes="Yes, remove them"
            no="Not now"
            busy={action.busy}
            onNo={() => setConfirm(false)}
            onYes={() =>
              void action.run(async () => {
                await api.runRetention({ username: computer.username });
                setConfirm(false);
                setPreview(null);
              })
            }
          >
            The backups the saved choice does not keep are removed from this disk and their space is freed. The offsite copy keeps their files for its grace period.
          </Confirm>
        ) : (
          <p>
            <button type="button" class="button" disabled={care.running !== null || !saved} aria-describedby="run-retention-why" onClick={() => setConfirm(true)}>
              {care.running === 'retention' ? 'Removing old backups…' : 'Remove old backups now…'}
            </button>
            <WhyDisabled id="run-retention-why" reason={saved ? null : 'Save this choice first: the removal keeps what the saved choice keeps.'} />
          </p>
        ))}
    </section>
  );
}
