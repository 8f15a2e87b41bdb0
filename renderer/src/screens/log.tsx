import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AppState, LogEntry, Summary } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatBytes, formatTime } from '../format.js';

/** Entries kept in the page; rows drawn at once (the newest), so a busy backup never slows the page. */
const KEPT = 5000;
const SHOWN = 200;
const CHART_SECONDS = 60;
const REDRAW_MS = 250;

function action(entry: LogEntry): string {
  if (entry.method === 'POST') return entry.type === null ? 'create repository' : 'upload';
  if (entry.method === 'DELETE') return 'delete';
  if (entry.method === 'HEAD') return 'check';
  return entry.type !== null && entry.path.endsWith('/') ? 'list' : 'download';
}

/**
 * restic asking "is this there?": a 404 on HEAD of anything, or on GET of the
 * repository's `config` (during `init`). Normal, not an error. A 404 on GET of
 * an object restic listed before is: that object is missing.
 */
const isProbe = (entry: LogEntry): boolean =>
  entry.status === 404 && entry.completed && (entry.method === 'HEAD' || (entry.method === 'GET' && entry.type === 'config'));

const isError = (entry: LogEntry): boolean => (entry.status >= 400 || !entry.completed) && !isProbe(entry);

/** Bytes per second over the last minute, as bars. */
function Throughput({ entries, now }: { entries: LogEntry[]; now: number }) {
  const buckets = new Array<number>(CHART_SECONDS).fill(0);
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i] as LogEntry;
    const age = Math.floor((now - Date.parse(entry.time)) / 1000);
    if (age >= CHART_SECONDS) break;
    if (age >= 0) buckets[CHART_SECONDS - 1 - age]! += entry.bytes;
  }
  const peak = Math.max(...buckets, 1);
  const latest = buckets.slice(-5).reduce((sum, value) => sum + value, 0) / 5;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${CHART_SECONDS * 6} 60`} preserveAspectRatio="none" role="img" aria-label={`Throughput, last minute; now ${formatBytes(latest)}/s`}>
        {buckets.map((value, index) => {
          const height = (value / peak) * 56;
          return <rect key={index} x={index * 6 + 1} y={60 - height} width={4} height={height} rx={1} />;
        })}
      </svg>
      <figcaption>
        <strong>{formatBytes(latest)}/s</strong> now · peak {formatBytes(peak === 1 ? 0 : peak)}/s in the last minute
      </figcaption>
    </figure>
  );
}

/** The live log: requests as they happen (filtered, paused at will) or the human summary, and the throughput. */
export function Log({ state }: { state: AppState }) {
  const entries = useRef<LogEntry[]>([]);
  const [summaries, setSummaries] = useState<Summary[]>([]);
  const [view, setView] = useState<'summary' | 'requests'>('summary');
  const [paused, setPaused] = useState(false);
  const [computer, setComputer] = useState('');
  const [type, setType] = useState('');
  const [errorsOnly, setErrorsOnly] = useState(false);
  const [tick, setTick] = useState(0);
  const dirty = useRef(false);
  const pausedRef = useRef(false);
  pausedRef.current = paused;

  useEffect(() => {
    void api.recentRequests({ limit: KEPT }).then((recent) => {
      entries.current = [...recent, ...entries.current].slice(-KEPT);
      dirty.current = true;
    });
    void api.recentSummaries().then(setSummaries);
    const stopRequests = api.on('requests', (batch) => {
      entries.current.push(...batch);
      if (entries.current.length > KEPT) entries.current.splice(0, entries.current.length - KEPT);
      dirty.current = true;
    });
    const stopSummaries = api.on('summary', (summary) => setSummaries((list) => [...list.slice(-499), summary]));
    // Redraw at most four times a second, however many requests arrive.
    const timer = setInterval(() => {
      if (!pausedRef.current) {
        dirty.current = false;
        setTick((n) => n + 1);
      }
    }, REDRAW_MS);
    return () => {
      stopRequests();
      stopSummaries();
      clearInterval(timer);
    };
  }, []);

  const snapshot = useMemo(() => entries.current.slice(), [tick]);
  const users = [...new Set(snapshot.map((entry) => entry.user).filter((user): user is string => user !== null))];
  const rows: LogEntry[] = [];
  for (let i = snapshot.length - 1; i >= 0 && rows.length < SHOWN; i--) {
    const entry = snapshot[i] as LogEntry;
    if (computer && entry.user !== computer) continue;
    if (type && entry.type !== type) continue;
    if (errorsOnly && !isError(entry)) continue;
    rows.push(entry);
  }
  const nameOf = (user: string) => state.computers.find((candidate) => candidate.username === user)?.displayName ?? user;

  return (
    <div class="screen">
      <h1>Live log</h1>
      <Throughput entries={snapshot} now={Date.now()} />
      <div class="toolbar">
        <div class="tabs" role="tablist" aria-label="View">
          <button type="button" role="tab" aria-selected={view === 'requests'} class={`tab ${view === 'requests' ? 'active' : ''}`} onClick={() => setView('requests')}>
            Requests
          </button>
          <button type="button" role="tab" aria-selected={view === 'summary'} class={`tab ${view === 'summary' ? 'active' : ''}`} onClick={() => setView('summary')}>
            Summary
          </button>
        </div>
        {view === 'requests' && (
          <>
            <label class="inline">
              Computer
              <select value={computer} onChange={(event) => setComputer((event.target as HTMLSelectElement).value)}>
                <option value="">all</option>
                {users.map((user) => (
                  <option value={user} key={user}>
                    {nameOf(user)}
                  </option>
                ))}
              </select>
            </label>
            <label class="inline">
              Type
              <select value={type} onChange={(event) => setType((event.target as HTMLSelectElement).value)}>
                <option value="">all</option>
                {['data', 'index', 'snapshots', 'keys', 'locks', 'config'].map((name) => (
                  <option value={name} key={name}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
            <label class="inline">
              <input type="checkbox" checked={errorsOnly} onChange={(event) => setErrorsOnly((event.target as HTMLInputElement).checked)} /> Errors only
            </label>
            <button type="button" class="button small" aria-pressed={paused} onClick={() => setPaused(!paused)}>
              {paused ? 'Resume' : 'Pause'}
            </button>
          </>
        )}
      </div>
      {view === 'summary' ? (
        <ul class="summaries">
          {summaries.length === 0 && <li class="muted">Nothing happened yet.</li>}
          {[...summaries].reverse().map((summary, index) => (
            <li class={summary.severity} key={`${summary.time}-${index}`}>
              <time>{formatTime(summary.time)}</time> {summary.message}
            </li>
          ))}
        </ul>
      ) : (
        <div class="table-scroll">
          <table class="table log-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Computer</th>
                <th scope="col">Action</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">Size</th>
                <th scope="col" class="num">Duration</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && (
                <tr>
                  <td colSpan={7} class="muted">
                    No requests yet.
                  </td>
                </tr>
              )}
              {rows.map((entry, index) => (
                <tr key={`${entry.time}-${index}`} class={isError(entry) ? 'failed' : ''}>
                  <td>{formatTime(entry.time)}</td>
                  <td>{entry.user === null ? <span class="muted">{entry.remoteAddress}</span> : nameOf(entry.user)}</td>
                  <td>{action(entry)}</td>
                  <td>{entry.type ?? '–'}</td>
                  <td>{!entry.completed ? `${entry.status} (cut)` : isProbe(entry) ? `${entry.status} (not there yet)` : entry.status}</td>
                  <td class="num">{entry.bytes > 0 ? formatBytes(entry.bytes) : ''}</td>
                  <td class="num">{entry.durationMs} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
