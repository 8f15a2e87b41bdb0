import type { RetentionPolicy, RetentionPreset, RetentionPreview, SnapshotLine } from '../../contract.js';

/** What the family keeps unless it says otherwise: everything from the last 2 days, then 7 daily, 5 weekly, 12 monthly and 3 yearly snapshots (issue 28). */
export const DEFAULT_POLICY: RetentionPolicy = { withinDays: 2, daily: 7, weekly: 5, monthly: 12, yearly: 3 };

/** The named policies the page offers beside the default: less history for a small disk, more for a big one. */
export const PRESETS: Record<Exclude<RetentionPreset, 'custom'>, RetentionPolicy> = {
  standard: DEFAULT_POLICY,
  lean: { withinDays: 1, daily: 7, weekly: 4, monthly: 6, yearly: 0 },
  generous: { withinDays: 7, daily: 14, weekly: 8, monthly: 24, yearly: 10 },
};

/** Which preset a policy is, or `custom`. */
export function presetOf(policy: RetentionPolicy): RetentionPreset {
  const same = (a: RetentionPolicy, b: RetentionPolicy) => (Object.keys(a) as (keyof RetentionPolicy)[]).every((key) => a[key] === b[key]);
  return (Object.keys(PRESETS) as (keyof typeof PRESETS)[]).find((name) => same(PRESETS[name], policy)) ?? 'custom';
}

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

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** restic prune's estimate of what it deletes, from its report ("total prune:  6 blobs / 1.649 MiB"); 0 when it has none. */
export function readPruneEstimate(report: string): number {
  const match = /^total prune:\s+\d+ blobs \/ ([\d.]+) (B|KiB|MiB|GiB|TiB)$/m.exec(report);
  return match ? Math.round(Number(match[1]) * (UNITS[match[2] as string] as number)) : 0;
}

/** forget's groups: its one JSON document, or that document as the first of the lines when prune's report follows it. */
function forgetGroups(json: unknown): ForgetGroup[] {
  const list = Array.isArray(json) ? (json as unknown[]) : [];
  return (list.length > 0 && list.every((item) => Array.isArray(item)) ? list.flat() : list) as ForgetGroup[];
}

/** How many snapshots restic forget removed, from its JSON groups. */
export const removedCount = (json: unknown): number => forgetGroups(json).reduce((sum, group) => sum + (group.remove?.length ?? 0), 0);

/** restic forget --dry-run --json's groups, as the snapshots kept (with restic's reasons) and those that would go, newest first, with prune's estimate of the space freed. */
export function readForget(policy: RetentionPolicy, json: unknown, freedBytes: number): RetentionPreview {
  const groups = forgetGroups(json);
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
  return { policy, keep: keep.sort(byTime), forget: forget.sort(byTime), freedBytes };
}
