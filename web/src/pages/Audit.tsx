// The audit log (admin): newest first, filters kept in the URL, paging.
import { useEffect, useState } from 'preact/hooks';
import { api, useApi } from '../api';
import type { PageProps } from '../routes';
import { setQuery, useLocation } from '../router';
import { Empty, ErrorBox, Loading, PageHead, RelTime, Status, TableHead } from '../widgets';

interface Entry {
  id: number;
  time: string;
  actor: string;
  actor_kind: string;
  action: string;
  target: string;
  detail: string;
  remote_addr: string;
  success: boolean;
}

const PAGE = 50;

/** What each action means, in words. */
export const ACTION_TEXT: Record<string, string> = {
  login: 'Logged in',
  logout: 'Logged out',
  'user.create': 'Created a user',
  'user.update': 'Changed a user',
  'user.delete': 'Deleted a user',
  'user.password': 'Changed a password',
  'token.create': 'Created an API token',
  'token.revoke': 'Revoked an API token',
  'incident.ack': 'Acknowledged an incident',
  'incident.note': 'Added a note to an incident',
  'incident.update': 'Changed an incident',
  'incident.resolve': 'Resolved an incident',
  'incident.reopen': 'Reopened an incident',
  'silence.create': 'Created a silence',
  'silence.expire': 'Ended a silence',
  'config.reload': 'Reloaded the configuration',
};

const PERIODS: { value: string; label: string; seconds: number }[] = [
  { value: '1h', label: 'Last hour', seconds: 3600 },
  { value: '24h', label: 'Last 24 hours', seconds: 86400 },
  { value: '7d', label: 'Last 7 days', seconds: 7 * 86400 },
  { value: '30d', label: 'Last 30 days', seconds: 30 * 86400 },
  { value: 'all', label: 'All time', seconds: 0 },
  { value: 'custom', label: 'Between dates…', seconds: 0 },
];

/** A datetime-local value ("2026-11-20T10:00") as RFC 3339, '' when empty or invalid. */
function localToRFC3339(v: string): string {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

const KIND_TEXT: Record<string, string> = { session: 'web login', token: 'API token', basic: 'password (basic auth)', system: 'the server itself' };

export default function Audit(_p: PageProps) {
  const loc = useLocation();
  const q = loc.query;
  const actor = q.get('actor') ?? '';
  const action = q.get('action') ?? '';
  const period = q.get('period') ?? (q.get('from') || q.get('to') ? 'custom' : '7d');
  const fromLocal = q.get('from') ?? '';
  const toLocal = q.get('to') ?? '';
  const page = Math.max(0, parseInt(q.get('page') ?? '0', 10) || 0);
  const [actorText, setActorText] = useState(actor);
  useEffect(() => setActorText(actor), [actor]);

  const p = PERIODS.find((x) => x.value === period) ?? PERIODS[2];
  let from = '';
  let to = '';
  if (p.value === 'custom') {
    from = localToRFC3339(fromLocal);
    to = localToRFC3339(toLocal);
  } else if (p.seconds > 0) {
    from = String(Math.floor(Date.now() / 1000) - p.seconds);
  }
  const list = useApi(
    (signal) =>
      api<{ entries: Entry[]; total: number }>('/api/v1/audit', {
        query: { limit: PAGE, offset: page * PAGE, actor: actor || undefined, action: action || undefined, from: from || undefined, to: to || undefined },
        signal,
      }),
    [actor, action, period, fromLocal, toLocal, page],
  );
  const users = useApi((signal) => api<{ users: { name: string }[] }>('/api/v1/users', { signal }).catch(() => ({ users: [] })), []);

  const entries = list.data?.entries ?? [];
  const total = list.data?.total ?? 0;
  const first = page * PAGE + 1;
  const last = page * PAGE + entries.length;
  const filtered = !!(actor || action || period !== '7d');
  const set = (params: Record<string, string | null>) => setQuery({ ...params, page: null });

  return (
    <>
      <PageHead title="Audit log" sub="Who did what, from where, and whether it worked. Newest first." />
      <form
        class="panel filters"
        role="search"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          set({ actor: actorText.trim() || null });
        }}
      >
        <label class="field">
          <span>Who</span>
          <input list="audit-actors" value={actorText} placeholder="Any user or token" onInput={(e) => setActorText((e.target as HTMLInputElement).value)} onChange={(e) => set({ actor: (e.target as HTMLInputElement).value.trim() || null })} />
          <datalist id="audit-actors">
            {(users.data?.users ?? []).map((u) => (
              <option value={u.name} />
            ))}
          </datalist>
        </label>
        <label class="field">
          <span>Action</span>
          <select value={action} onChange={(e) => set({ action: (e.target as HTMLSelectElement).value || null })}>
            <option value="">Any action</option>
            {Object.entries(ACTION_TEXT).map(([k, v]) => (
              <option value={k}>{v}</option>
            ))}
            {action && !ACTION_TEXT[action] && <option value={action}>{action}</option>}
          </select>
        </label>
        <label class="field">
          <span>When</span>
          <select value={p.value} onChange={(e) => set({ period: (e.target as HTMLSelectElement).value, from: null, to: null })}>
            {PERIODS.map((x) => (
              <option value={x.value}>{x.label}</option>
            ))}
          </select>
        </label>
        {p.value === 'custom' && (
          <>
            <label class="field">
              <span>From</span>
              <input type="datetime-local" value={fromLocal} onChange={(e) => set({ from: (e.target as HTMLInputElement).value || null, period: 'custom' })} />
            </label>
            <label class="field">
              <span>To</span>
              <input type="datetime-local" value={toLocal} onChange={(e) => set({ to: (e.target as HTMLInputElement).value || null, period: 'custom' })} />
            </label>
          </>
        )}
        <div class="field">
          <span aria-hidden="true">&nbsp;</span>
          <div class="filter-buttons">
            <button type="submit">Apply</button>
            {filtered && (
              <button type="button" class="link" onClick={() => setQuery({ actor: null, action: null, period: null, from: null, to: null, page: null })}>
                Clear filters
              </button>
            )}
          </div>
        </div>
      </form>

      {list.error !== null && <ErrorBox error={list.error} retry={list.reload} what="the audit log" />}
      {list.loading && !list.data && <Loading what="the audit log" />}
      {list.data && entries.length === 0 && (
        <Empty>{filtered ? 'No entries match these filters. Widen the time range or clear the filters.' : 'The audit log is empty.'}</Empty>
      )}
      {entries.length > 0 && (
        <>
          <div class="table-wrap">
            <table class="stack audit" aria-busy={list.loading}>
              <TableHead cols={['When', 'Who', 'What', 'On', 'Result', 'From', 'Details']} />
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id}>
                    <td data-label="When" class="nowrap">
                      <RelTime t={e.time} />
                    </td>
                    <td data-label="Who">
                      <button type="button" class="link plain" title={`Show only ${e.actor}`} onClick={() => set({ actor: e.actor })}>
                        {e.actor || '–'}
                      </button>
                      {e.actor_kind && <div class="small muted">{KIND_TEXT[e.actor_kind] ?? e.actor_kind}</div>}
                    </td>
                    <td data-label="What">
                      {ACTION_TEXT[e.action] ?? e.action}
                      <div class="small muted mono">{e.action}</div>
                    </td>
                    <td data-label="On" class="break">
                      {e.target || '–'}
                    </td>
                    <td data-label="Result">{e.success ? <Status tone="ok" text="Succeeded" /> : <Status tone="bad" text="Failed" />}</td>
                    <td data-label="From" class="mono small">
                      {e.remote_addr || '–'}
                    </td>
                    <td data-label="Details" class="break small">
                      {e.detail || <span class="muted">–</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={page === 0} onClick={() => setQuery({ page: page > 1 ? String(page - 1) : null }, { replace: false })}>
              ← Newer
            </button>
            <span>
              {first}–{last} of {total}
            </span>
            <button type="button" disabled={last >= total} onClick={() => setQuery({ page: String(page + 1) }, { replace: false })}>
              Older →
            </button>
          </nav>
        </>
      )}
    </>
  );
}
