// The support home: is everything working, in plain words; the open
// problems, who is on them, and the buttons to take one on or add a note.
// No query language, no label syntax.
import { useEffect, useState } from 'preact/hooks';
import { api, can, errorMessage, session, useApi, useEvents } from '../api';
import { formatExactTime, formatSince } from '../format';
import type { PageProps } from '../routes';
import { Empty, ErrorBox, PageHead, RelTime, Status, type Tone } from '../widgets';

export interface SupportCheck {
  name: string;
  description?: string;
  state: string;
  locations: { location: string; state: string; since: string }[];
}

export interface SupportIncident {
  id: number;
  title: string;
  status: string;
  severity: string;
  service?: string;
  host?: string;
  group_labels?: Record<string, string>;
  opened_at: string;
  acknowledged_at?: string | null;
  acknowledged_by?: string | null;
  alerts?: { state: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}

/** What people call a check: its description when short, else its name. */
export function serviceName(c: { name: string; description?: string }): string {
  const d = (c.description ?? '').trim();
  const n = d && d.length <= 60 ? d : c.name;
  return n.charAt(0).toUpperCase() + n.slice(1);
}

/** When the check entered its current state: the earliest such location. */
function sinceOf(c: SupportCheck): string | undefined {
  const ts = c.locations.filter((l) => l.state === c.state && l.since).map((l) => l.since);
  ts.sort();
  return ts[0];
}

/** "The shop website is down since 10:42 (12 min)", or null when it works. */
export function checkSentence(c: SupportCheck, now = Date.now()): { text: string; tone: Tone } | null {
  const since = sinceOf(c);
  const when = since ? ' ' + formatSince(since, now) : '';
  if (c.state === 'down') return { text: `${serviceName(c)} is down${when}`, tone: 'bad' };
  if (c.state === 'degraded') return { text: `${serviceName(c)} is slow or partly working${when}`, tone: 'warn' };
  return null;
}

/** The state of a check in plain words. */
export function checkWords(state: string): { text: string; tone: Tone } {
  switch (state) {
    case 'up':
      return { text: 'Working', tone: 'ok' };
    case 'degraded':
      return { text: 'Slow or partly working', tone: 'warn' };
    case 'down':
      return { text: 'Down', tone: 'bad' };
    case 'pending':
      return { text: 'Not checked yet', tone: 'muted' };
    default:
      return { text: 'Unknown right now', tone: 'muted' };
  }
}

/** "HostHighCPU" → "Host high CPU"; "CheckDown" → "Check down". */
export function plainAlertName(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([a-zA-Z])(\d)/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_]+/)
    .filter(Boolean);
  return words.map((w, i) => (i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : /^[A-Z0-9]{2,}$/.test(w) ? w : w.toLowerCase())).join(' ');
}

/** An incident's title in plain words: its alert's summary, or its alert name and where. */
export function incidentTitle(inc: SupportIncident): string {
  const firing = (inc.alerts ?? []).filter((a) => a.state === 'firing');
  const summaries = [...new Set((firing.length ? firing : inc.alerts ?? []).map((a) => a.annotations?.summary).filter(Boolean))] as string[];
  if (summaries.length === 1) return summaries[0].charAt(0).toUpperCase() + summaries[0].slice(1);
  if (summaries.length > 1) return `${summaries[0].charAt(0).toUpperCase() + summaries[0].slice(1)} (and ${summaries.length - 1} more)`;
  const name = inc.group_labels?.alertname ?? inc.title.replace(/\s*\(.*\)\s*$/, '');
  const where = inc.group_labels?.check ?? inc.host ?? '';
  return plainAlertName(name) + (where ? ` on ${where}` : '');
}

/** How urgent, in words. */
export function severityWords(sev: string): { text: string; tone: Tone } {
  if (sev === 'critical') return { text: 'Urgent', tone: 'bad' };
  if (sev === 'info') return { text: 'Minor', tone: 'info' };
  return { text: 'Important', tone: 'warn' };
}

/** The overall headline: all working, or how many things are wrong. */
export function headline(checks: SupportCheck[], incidents: SupportIncident[]): { text: string; tone: Tone } {
  const down = checks.filter((c) => c.state === 'down').length;
  const slow = checks.filter((c) => c.state === 'degraded').length;
  if (down === 0 && slow === 0 && incidents.length === 0) return { text: 'All systems working', tone: 'ok' };
  if (down > 0) return { text: down === 1 ? 'A service is down' : `${down} services are down`, tone: 'bad' };
  if (slow > 0) return { text: slow === 1 ? 'A service has problems' : `${slow} services have problems`, tone: 'warn' };
  return { text: incidents.length === 1 ? 'The team is looking at a problem' : `The team is looking at ${incidents.length} problems`, tone: 'warn' };
}

function IncidentCard(p: { inc: SupportIncident; onChange: () => void }) {
  const i = p.inc;
  const [note, setNote] = useState('');
  const [noteOpen, setNoteOpen] = useState(false);
  const [busy, setBusy] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const sev = severityWords(i.severity);
  const respond = can('respond');
  const act = async (what: string, fn: () => Promise<unknown>, msg: string) => {
    setBusy(what);
    setErr(null);
    setDone('');
    try {
      await fn();
      setDone(msg);
      p.onChange();
    } catch (x) {
      setErr(x);
    } finally {
      setBusy('');
    }
  };
  return (
    <li class={'support-inc ' + (i.status === 'open' ? 'new' : 'handled')}>
      <div class="support-inc-head">
        <h3>{incidentTitle(i)}</h3>
        <Status tone={sev.tone} text={sev.text} />
      </div>
      <p class="support-inc-state">
        {i.status === 'open' ? (
          <Status tone="bad" text="Nobody is on it yet" />
        ) : (
          <Status tone="ok" text={`${i.acknowledged_by || 'Someone'} is on it`} title={i.acknowledged_at ? 'Since ' + formatExactTime(i.acknowledged_at) : undefined} />
        )}{' '}
        <span class="muted small" title={formatExactTime(i.opened_at)}>
          Open {formatSince(i.opened_at)}
        </span>
      </p>
      {respond ? (
        <div class="support-actions">
          {i.status === 'open' && (
            <button type="button" class="primary" disabled={!!busy} onClick={() => act('ack', () => api(`/api/v1/incidents/${i.id}/ack`, { method: 'POST', body: {} }), 'You are on it now. The team can see that.')}>
              {busy === 'ack' ? 'Saving…' : "I'm on it"}
            </button>
          )}
          <button type="button" aria-expanded={noteOpen} onClick={() => setNoteOpen(!noteOpen)}>
            ✎ Add a note
          </button>
          <a href={`/incidents/${i.id}`} class="small">
            Full details
          </a>
        </div>
      ) : (
        <p class="small muted">
          <a href={`/incidents/${i.id}`}>Full details</a>
        </p>
      )}
      {noteOpen && respond && (
        <form
          class="support-note"
          onSubmit={(e) => {
            e.preventDefault();
            if (!note.trim()) return;
            act('note', () => api(`/api/v1/incidents/${i.id}/notes`, { method: 'POST', body: { text: note.trim() } }), 'Your note was added.').then(() => {
              setNote('');
              setNoteOpen(false);
            });
          }}
        >
          <label class="field">
            <span>Note for the team</span>
            <textarea rows={3} value={note} placeholder="For example: three customers called about this since 10:40." onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
          </label>
          <button type="submit" class="primary" disabled={!note.trim() || !!busy}>
            {busy === 'note' ? 'Adding…' : 'Add note'}
          </button>{' '}
          <button type="button" onClick={() => setNoteOpen(false)}>
            Cancel
          </button>
        </form>
      )}
      {done && (
        <p class="small ok-text" role="status">
          ✔ {done}
        </p>
      )}
      {err !== null && (
        <p class="state error" role="alert">
          That did not work: {errorMessage(err)}
        </p>
      )}
    </li>
  );
}

export default function HomeSupport(_p: PageProps) {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState !== 'hidden') setTick((n) => n + 1);
    }, 30000);
    return () => clearInterval(t);
  }, []);
  const checks = useApi((signal) => api<SupportCheck[]>('/api/v1/checks', { signal }), [tick]);
  const incidents = useApi(
    async (signal) => {
      const r = await api<{ incidents: SupportIncident[]; total: number }>('/api/v1/incidents', { query: { status: 'open,acknowledged', limit: 50 }, signal });
      // The alerts' summaries make the plain titles; a handful of open incidents, fetched together.
      const full = await Promise.all(r.incidents.slice(0, 20).map((i) => api<SupportIncident>(`/api/v1/incidents/${i.id}`, { signal }).catch(() => i)));
      return { incidents: [...full, ...r.incidents.slice(20)], total: r.total };
    },
    [tick],
  );
  useEvents(['incident'], () => incidents.reload());
  const [checkedAt, setCheckedAt] = useState(0);
  useEffect(() => {
    if (checks.data) setCheckedAt(Date.now());
  }, [checks.data]);

  const cs = checks.data ?? [];
  const sevRank: Record<string, number> = { critical: 0, warning: 1, info: 2 };
  const incs = (incidents.data?.incidents ?? [])
    .slice()
    .sort((a, b) => Number(b.status === 'open') - Number(a.status === 'open') || (sevRank[a.severity] ?? 1) - (sevRank[b.severity] ?? 1) || b.opened_at.localeCompare(a.opened_at));
  const loaded = !!checks.data && !!incidents.data;
  const head = headline(cs, incs);
  const sentences = cs
    .map((c) => checkSentence(c))
    .filter((s): s is { text: string; tone: Tone } => s !== null)
    .sort((a, b) => (a.tone === b.tone ? 0 : a.tone === 'bad' ? -1 : 1));
  const sorted = cs.slice().sort((a, b) => rank(b.state) - rank(a.state) || serviceName(a).localeCompare(serviceName(b)));

  return (
    <>
      <PageHead title="Service status" sub="What customers see right now, and what the team is doing about it." />

      {(checks.error !== null || incidents.error !== null) && (
        <>
          <ErrorBox error={checks.error ?? incidents.error} retry={() => (checks.reload(), incidents.reload())} what="the status" />
          <p class="small muted">If this keeps happening, tell the technical team that the monitoring server has a problem.</p>
        </>
      )}
      {!loaded && checks.error === null && incidents.error === null && <p class="state">Finding out whether everything works…</p>}
      {loaded && (
        <section class={'support-banner ' + head.tone} aria-live="polite">
          <p class="support-headline">
            <span aria-hidden="true">{head.tone === 'ok' ? '✔' : head.tone === 'bad' ? '✖' : '▲'}</span> {head.text}
          </p>
          {sentences.length > 0 && (
            <ul>
              {sentences.map((s) => (
                <li>{s.text}.</li>
              ))}
            </ul>
          )}
          {head.tone === 'ok' && <p class="small">{cs.length === 1 ? 'The one service we watch answers normally.' : `All ${cs.length} services we watch answer normally.`}</p>}
          <p class="small muted">
            Checked <RelTime t={checkedAt || Date.now()} />. This page updates by itself.
          </p>
        </section>
      )}

      <section class="panel">
        <h2>Problems the team is working on</h2>
        {incidents.data && incs.length === 0 && <Empty>No open problems.</Empty>}
        {!incidents.data && incidents.error === null && <p class="muted">Loading…</p>}
        {incs.length > 0 && (
          <>
            {!can('respond') && <p class="small muted">Your role ({session.role}) can look but not take problems on or add notes.</p>}
            <ul class="support-incs">
              {incs.map((i) => (
                <IncidentCard key={i.id} inc={i} onChange={incidents.reload} />
              ))}
            </ul>
          </>
        )}
      </section>

      <section class="panel">
        <h2>All services</h2>
        {checks.data && cs.length === 0 && <Empty>No services are being watched yet.</Empty>}
        {!checks.data && checks.error !== null && <Empty>The list of services is not available right now.</Empty>}
        {!checks.data && checks.error === null && <p class="muted">Loading…</p>}
        {cs.length > 0 && (
          <ul class="support-services">
            {sorted.map((c) => {
              const w = checkWords(c.state);
              const since = sinceOf(c);
              return (
                <li>
                  <span class="svc-name">{serviceName(c)}</span>
                  <Status tone={w.tone} text={w.text} />
                  {since && c.state !== 'up' && <span class="small muted">{formatSince(since)}</span>}
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </>
  );
}

function rank(state: string): number {
  return { down: 3, degraded: 2, unknown: 1, pending: 0, up: -1 }[state] ?? 0;
}
