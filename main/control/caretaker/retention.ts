import type { RetentionPolicy, RetentionPreview, SnapshotLine } from '../../contract.js';

/** What the family keeps unless it says otherwise: everything from the last 2 days, then 7 daily, 5 weekly, 12 monthly and 3 yearly snapshots (issue 28). */
export const DEFAULT_POLICY: RetentionPolicy = { withinDays: 2, daily: 7, weekly: 5, monthly: 12, yearly: 3 };

/** restic forget's flags for a policy; a zero leaves its flag out. */
export function policyFlags(policy: RetentionPolicy): string[] {
  const flags: [string, number, string][] = [
    ['--keep-within', policy.withinDays, 'd'],
    ['--keep-daily', policy.daily, ''],
    ['--keep-weekly', policy.weekly, ''],
    ['--keep-monthly', policy.monthly, ''],
    ['--keep-yearly', policy.yearly, ''],
  ];
  return flags.filter(([, count]) => count > 0).flatMap(([flag, count, unit]) => [flag, `${count}${unit}`]);
}

interface ForgetSnapshot {
  /** Missing in the reasons of restic 0.14: there a snapshot is known by its time and tree. */
  id?: string;
  time: string;
  tree?: string;
  hostname?: string;
  paths?: string[];
}

interface ForgetGroup {
  keep?: ForgetSnapshot[] | null;
  remove?: ForgetSnapshot[] | null;
  reasons?: { snapshot: ForgetSnapshot; matches?: string[] }[] | null;
}

const sameSnapshot = (a: ForgetSnapshot, b: ForgetSnapshot) => a.time === b.time && a.tree === b.tree;

const byTime = (a: SnapshotLine, b: SnapshotLine) => b.time.localeCompare(a.time);

/** restic forget --dry-run --json's groups, as the snapshots kept (with restic's reasons) and those that would go, newest first. */
export function readForget(policy: RetentionPolicy, json: unknown): RetentionPreview {
  const groups = (Array.isArray(json) ? json : []) as ForgetGroup[];
  const line = (snapshot: ForgetSnapshot, reasons: string[]): SnapshotLine => ({
    id: snapshot.id ?? '',
    time: snapshot.time,
    host: snapshot.hostname ?? '',
    paths: snapshot.paths ?? [],
    reasons,
  });
  const keep = groups.flatMap((group) =>
    (group.keep ?? []).map((snapshot) => line(snapshot, group.reasons?.find((reason) => sameSnapshot(reason.snapshot, snapshot))?.matches ?? [])),
  );
  const forget = groups.flatMap((group) => (group.remove ?? []).map((snapshot) => line(snapshot, [])));
  return { policy, keep: keep.sort(byTime), forget: forget.sort(byTime) };
}
