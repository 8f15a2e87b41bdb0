import { useState } from 'preact/hooks';
import type { CaretakerView, ComputerOverview, RetentionPolicy, RetentionPreview } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatDay, formatTime, plural } from '../format.js';
import { ErrorText, useAction } from './ui.js';

/** The default the app proposes (the same as main/control/caretaker/retention.ts). */
const DEFAULT: RetentionPolicy = { withinDays: 2, daily: 7, weekly: 5, monthly: 12, yearly: 3 };
const RULES: { key: keyof RetentionPolicy; label: string }[] = [
  { key: 'withinDays', label: 'All from the last days' },
  { key: 'daily', label: 'Daily' },
  { key: 'weekly', label: 'Weekly' },
  { key: 'monthly', label: 'Monthly' },
  { key: 'yearly', label: 'Yearly' },
];
/** Enough lines to see which backups go; the count says the rest. */
const SHOWN = 12;

/** Which backups a retention policy keeps: its preview, asked of restic on the desktop; nothing is removed here. */
export function Retention({ computer, caretaker }: { computer: ComputerOverview; caretaker: CaretakerView }) {
  const [policy, setPolicy] = useState<RetentionPolicy>(DEFAULT);
  const [preview, setPreview] = useState<RetentionPreview | null>(null);
  const action = useAction();
  const kept = caretaker.keptPasswords.includes(computer.username);
  return (
    <section aria-labelledby="retention-title">
      <h3 id="retention-title">Which backups are kept</h3>
      <p class="muted">
        Every backup from the last {plural(policy.withinDays, 'day')}, then the newest of each of the last {plural(policy.daily, 'day')}, {plural(policy.weekly, 'week')},{' '}
        {plural(policy.monthly, 'month')} and {plural(policy.yearly, 'year')}. The preview shows which backups would go; nothing is removed by it.
      </p>
      {kept ? (
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
          <button type="submit" class="button" disabled={action.busy}>
            {action.busy ? 'Asking restic…' : 'Preview'}
          </button>
        </form>
      ) : (
        <p class="muted">Keep the encryption password above to see the preview: restic needs it to read which backups there are.</p>
      )}
      <ErrorText error={action.error} />
      {preview && (
        <div role="status">
          <p>
            restic would keep {plural(preview.keep.length, 'backup')} and remove {plural(preview.forget.length, 'backup')}.
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
    </section>
  );
}
