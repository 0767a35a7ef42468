// /alerts: firing alerts grouped by alertname (Alertmanager API v2), the
// silences (active, pending, expired) with a form to create one and a button
// to expire one, and the maintenance windows' silences. Live from
// /api/v1/events (alert and silence events).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { can, errorMessage, useApi, useEvents, useSession } from '../api';
import { formatDuration, formatExactTime, timeAgo } from '../format';
import type { PageProps } from '../routes';
import { setQuery, useLocation } from '../router';
import { Empty, ErrorBox, Loading, PageHead, RelTime, Status, type Tone, TableHead } from '../widgets';
import {
  alertState,
  amCall,
  applyAlertEvent,
  groupAlerts,
  isMaintenance,
  matchersErrors,
  matchersForAlert,
  matcherText,
  matchesLabels,
  matcherError,
  OPS,
  parseSpan,
  runbookOf,
  shownLabels,
  splitSilences,
  toAMMatcher,
  toMatcher,
  windowName,
  type AMAlert,
  type AlertShown,
  type Matcher,
  type MatchOp,
  type Silence,
} from './alertsModel';
import { severityTone } from './incidentsModel';

type Tab = 'alerts' | 'silences' | 'maintenance';

const STATE_WORDS: Record<AlertShown, [Tone, string]> = {
  firing: ['bad', 'Firing'],
  silenced: ['muted', 'Silenced'],
  inhibited: ['muted', 'Inhibited'],
  muted: ['muted', 'Muted'],
};

/** A local datetime-local input value for a Date. */
function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function useDebounced(fn: () => void, ms: number) {
  const t = useRef<ReturnType<typeof setTimeout>>();
  const f = useRef(fn);
  f.current = fn;
  useEffect(() => () => clearTimeout(t.current), []);
  return () => {
    clearTimeout(t.current);
    t.current = setTimeout(() => f.current(), ms);
  };
}

export default function Alerts(_p: PageProps) {
  const loc = useLocation();
  const tab = (['alerts', 'silences', 'maintenance'].includes(loc.query.get('tab') ?? '') ? loc.query.get('tab') : 'alerts') as Tab;
  useSession();
  const operate = can('operate');

  const alertsQ = useApi((signal) => amCall<AMAlert[]>('GET', '/api/v2/alerts', undefined, signal), []);
  const silencesQ = useApi((signal) => amCall<Silence[]>('GET', '/api/v2/silences', undefined, signal), []);
  const [alerts, setAlerts] = useState<AMAlert[] | undefined>(undefined);
  useEffect(() => {
    if (alertsQ.data) setAlerts(alertsQ.data);
  }, [alertsQ.data]);

  const reloadAll = () => {
    alertsQ.reload();
    silencesQ.reload();
  };
  const refetchSoon = useDebounced(reloadAll, 1500);
  const stream = useEvents(['alert', 'silence'], (e) => {
    if (e.kind === 'alert' && e.data && typeof e.data === 'object') setAlerts((l) => applyAlertEvent(l ?? [], e.data));
    refetchSoon();
  });
  // Silences start and end by the clock, not by events: look again every minute.
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState !== 'hidden') reloadAll();
    }, 60000);
    return () => clearInterval(t);
  }, []);

  const [draft, setDraft] = useState<Matcher[] | null>(null);
  const [notice, setNotice] = useState('');
  const openForm = (ms: Matcher[]) => {
    setDraft(ms);
    setNotice('');
    setQuery({ tab: 'silences' });
    setTimeout(() => document.getElementById('silence-form')?.scrollIntoView({ behavior: 'smooth', block: 'start' }), 50);
  };

  const silences = silencesQ.data ?? [];
  const userSilences = silences.filter((s) => !isMaintenance(s));
  const windows = silences.filter(isMaintenance);
  const list = alerts ?? [];
  const firing = list.filter((a) => alertState(a) === 'firing').length;

  const tabs: [Tab, string, number | null][] = [
    ['alerts', 'Alerts', alerts ? list.length : null],
    ['silences', 'Silences', silencesQ.data ? userSilences.filter((s) => s.status.state !== 'expired').length : null],
    ['maintenance', 'Maintenance', silencesQ.data ? windows.filter((s) => s.status.state !== 'expired').length : null],
  ];

  return (
    <>
      <PageHead
        title="Alerts"
        sub={
          alerts
            ? `${firing} firing and notifying, ${list.length - firing} silenced, inhibited or muted`
            : 'Firing alerts, silences and maintenance windows'
        }
      >
        <span class={'al-live ' + stream} role="status" title="Updates arrive from the server's event stream without reloading">
          <span aria-hidden="true">{stream === 'open' ? '●' : '○'}</span> {stream === 'open' ? 'Live' : stream === 'connecting' ? 'Connecting…' : 'Live updates paused, retrying'}
        </span>
        {operate && (
          <button type="button" class="primary" onClick={() => openForm([{ name: '', op: '=', value: '' }])}>
            New silence
          </button>
        )}
      </PageHead>

      <div class="al-tabs" role="tablist" aria-label="Sections">
        {tabs.map(([t, label, n]) => (
          <button type="button" role="tab" id={'tab-' + t} aria-selected={tab === t} aria-controls={'panel-' + t} class={tab === t ? 'on' : ''} onClick={() => setQuery({ tab: t === 'alerts' ? null : t })}>
            {label}
            {n !== null && <span class="al-count">{n}</span>}
          </button>
        ))}
      </div>

      {notice && (
        <p class="al-notice" role="status">
          {notice}{' '}
          <button type="button" class="link" onClick={() => setNotice('')}>
            Dismiss
          </button>
        </p>
      )}

      {tab === 'alerts' && (
        <section id="panel-alerts" role="tabpanel" aria-labelledby="tab-alerts">
          <AlertList alerts={alerts} loading={alertsQ.loading} error={alertsQ.error} retry={alertsQ.reload} silences={silences} operate={operate} onSilence={(a) => openForm(matchersForAlert(a.labels))} />
        </section>
      )}

      {tab === 'silences' && (
        <section id="panel-silences" role="tabpanel" aria-labelledby="tab-silences">
          {draft && operate && (
            <SilenceForm
              initial={draft}
              alerts={list}
              onCancel={() => setDraft(null)}
              onCreated={(id) => {
                setDraft(null);
                setNotice(`Silence ${id.slice(0, 8)} created.`);
                reloadAll();
              }}
            />
          )}
          <SilenceList silences={userSilences} data={!!silencesQ.data} loading={silencesQ.loading} error={silencesQ.error} retry={silencesQ.reload} alerts={list} operate={operate} onChanged={reloadAll} onRecreate={(s) => openForm(s.matchers.map(toMatcher))} />
        </section>
      )}

      {tab === 'maintenance' && (
        <section id="panel-maintenance" role="tabpanel" aria-labelledby="tab-maintenance">
          <MaintenanceList silences={windows} data={!!silencesQ.data} loading={silencesQ.loading} error={silencesQ.error} retry={silencesQ.reload} operate={operate} onChanged={reloadAll} />
        </section>
      )}
    </>
  );
}

// ---------------------------------------------------------------- alerts

function AlertList(p: { alerts?: AMAlert[]; loading: boolean; error: unknown; retry: () => void; silences: Silence[]; operate: boolean; onSilence: (a: AMAlert) => void }) {
  const [text, setText] = useState('');
  const [showMuted, setShowMuted] = useState(true);
  const groups = useMemo(() => {
    const t = text.trim().toLowerCase();
    const list = (p.alerts ?? []).filter((a) => {
      if (!showMuted && alertState(a) !== 'firing') return false;
      if (!t) return true;
      const hay = [...Object.entries(a.labels).map(([k, v]) => `${k}=${v}`), ...Object.values(a.annotations ?? {})].join(' ').toLowerCase();
      return hay.includes(t);
    });
    return groupAlerts(list);
  }, [p.alerts, text, showMuted]);

  if (!p.alerts && p.error) return <ErrorBox error={p.error} retry={p.retry} what="the alerts" />;
  if (!p.alerts) return <Loading what="alerts" />;
  const silenceById = new Map(p.silences.map((s) => [s.id, s]));
  return (
    <>
      {p.error ? <ErrorBox error={p.error} retry={p.retry} what="the latest alerts (showing the last ones loaded)" /> : null}
      <div class="al-filters">
        <label class="field al-search">
          <span>Filter</span>
          <input type="search" value={text} placeholder="label, value or text, e.g. instance=web-1" onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        </label>
        <label class="al-check">
          <input type="checkbox" checked={showMuted} onChange={(e) => setShowMuted((e.target as HTMLInputElement).checked)} /> Show silenced, inhibited and muted alerts
        </label>
      </div>
      {p.alerts.length === 0 && <Empty>No firing alerts. Alerts appear here when a rule fires or something posts to /api/v2/alerts.</Empty>}
      {p.alerts.length > 0 && groups.length === 0 && <Empty>No alert matches this filter.</Empty>}
      {groups.map((g) => (
        <section class="panel al-group" aria-label={`${g.name}: ${g.alerts.length} alerts`}>
          <header class="al-group-head">
            <h2>{g.name}</h2>
            {g.severity && <Status tone={severityTone(g.severity)} text={g.severity} title="Highest severity in this group" />}
            <span class="muted small">
              {g.alerts.length} {g.alerts.length === 1 ? 'alert' : 'alerts'}
              {g.active < g.alerts.length ? `, ${g.alerts.length - g.active} not notifying` : ''}
            </span>
          </header>
          <ul class="al-alerts">
            {g.alerts.map((a) => {
              const st = alertState(a);
              const [tone, word] = STATE_WORDS[st];
              const rb = runbookOf(a);
              const summary = a.annotations?.summary || a.annotations?.message || '';
              const desc = a.annotations?.description || '';
              return (
                <li class={'al-alert ' + st}>
                  <div class="al-alert-top">
                    <Status tone={st === 'firing' ? severityTone(a.labels.severity) === 'muted' ? 'bad' : severityTone(a.labels.severity) : tone} text={st === 'firing' ? (a.labels.severity ? `${word} · ${a.labels.severity}` : word) : word} />
                    <span class="muted small">
                      started <RelTime t={a.startsAt} />
                    </span>
                    <span class="al-actions">
                      {rb && (
                        <a href={rb} target="_blank" rel="noopener noreferrer">
                          Runbook
                        </a>
                      )}
                      {p.operate && (
                        <button type="button" onClick={() => p.onSilence(a)} title="Create a silence prefilled with this alert's labels">
                          Silence…
                        </button>
                      )}
                    </span>
                  </div>
                  {summary && <p class="al-summary">{summary}</p>}
                  {desc && desc !== summary && <p class="al-desc">{desc}</p>}
                  <ul class="al-labels" aria-label="Labels">
                    {shownLabels(a.labels).map(([k, v]) => (
                      <li>
                        <span class="k">{k}</span>=<span class="v">{v}</span>
                      </li>
                    ))}
                  </ul>
                  {st === 'silenced' && (
                    <p class="small muted">
                      Silenced by{' '}
                      {a.status.silencedBy.map((id, i) => {
                        const s = silenceById.get(id);
                        return (
                          <>
                            {i > 0 && ', '}
                            <a href={`/alerts?tab=${s && isMaintenance(s) ? 'maintenance' : 'silences'}#silence-${id}`} title={id}>
                              {s && isMaintenance(s) ? `maintenance window ${windowName(s) || id.slice(0, 8)}` : `silence ${id.slice(0, 8)}`}
                            </a>
                            {s ? ` (${s.createdBy}, ends ${timeAgo(s.endsAt)})` : ''}
                          </>
                        );
                      })}
                    </p>
                  )}
                  {st === 'inhibited' && <p class="small muted">Inhibited by a firing alert ({a.status.inhibitedBy.length}) through an inhibition rule.</p>}
                  {st === 'muted' && a.status.mutedBy?.length ? <p class="small muted">Muted by time interval {a.status.mutedBy.join(', ')}.</p> : null}
                </li>
              );
            })}
          </ul>
        </section>
      ))}
    </>
  );
}

// ---------------------------------------------------------------- silence form

function SilenceForm(p: { initial: Matcher[]; alerts: AMAlert[]; onCancel: () => void; onCreated: (id: string) => void }) {
  const s = useSession();
  const [rows, setRows] = useState<Matcher[]>(p.initial.length ? p.initial : [{ name: '', op: '=', value: '' }]);
  const [mode, setMode] = useState<'duration' | 'end'>('duration');
  const [duration, setDuration] = useState('2h');
  const [startAt, setStartAt] = useState('');
  const [endAt, setEndAt] = useState(() => toLocalInput(new Date(Date.now() + 2 * 3600e3)));
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  const [tried, setTried] = useState(false);
  useEffect(() => setRows(p.initial.length ? p.initial : [{ name: '', op: '=', value: '' }]), [p.initial]);

  const start = startAt ? new Date(startAt) : new Date();
  const secs = parseSpan(duration);
  const end = mode === 'duration' ? (Number.isFinite(secs) ? new Date(start.getTime() + secs * 1000) : null) : endAt ? new Date(endAt) : null;
  const problems = matchersErrors(rows);
  if (mode === 'duration' && !(secs > 0)) problems.push(`"${duration}" is not a duration: write it like 30m, 2h, 1d or 1h30m.`);
  if (mode === 'end' && (!end || Number.isNaN(end.getTime()))) problems.push('Choose when the silence ends.');
  else if (end && end.getTime() <= Math.max(start.getTime(), Date.now())) problems.push('The end must be after the start and in the future.');
  if (!comment.trim()) problems.push('Say why in the comment: the people who get the alert next will read it.');
  const valid = rows.every((m) => !matcherError(m));
  const affected = valid ? p.alerts.filter((a) => matchesLabels(rows, a.labels)) : [];

  const set = (i: number, m: Partial<Matcher>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...m } : r)));
  const submit = async (e: Event) => {
    e.preventDefault();
    setTried(true);
    if (problems.length || !end) return;
    setBusy(true);
    setErr('');
    try {
      const r = await amCall<{ silenceID: string }>('POST', '/api/v2/silences', {
        matchers: rows.map(toAMMatcher),
        startsAt: start.toISOString(),
        endsAt: end.toISOString(),
        createdBy: s.user || 'unknown',
        comment: comment.trim(),
      });
      p.onCreated(r?.silenceID ?? '');
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form id="silence-form" class="panel al-form" onSubmit={submit} noValidate aria-labelledby="silence-form-title">
      <h2 id="silence-form-title">New silence</h2>
      <p class="muted small">Alerts whose labels match every matcher stop notifying until the silence ends. It is created as {s.user || 'you'}.</p>
      <fieldset>
        <legend>Matchers</legend>
        {rows.map((m, i) => {
          const e = tried || m.name || m.value ? matcherError(m) : '';
          return (
            <div class="al-matcher">
              <label>
                <span class="sr-only">Label name {i + 1}</span>
                <input value={m.name} placeholder="label, e.g. instance" aria-invalid={!!e} onInput={(ev) => set(i, { name: (ev.target as HTMLInputElement).value })} list="al-label-names" />
              </label>
              <label>
                <span class="sr-only">Operator {i + 1}</span>
                <select value={m.op} onChange={(ev) => set(i, { op: (ev.target as HTMLSelectElement).value as MatchOp })} title="= equals, != differs, =~ matches the regular expression, !~ does not match it">
                  {OPS.map((o) => (
                    <option value={o}>{o}</option>
                  ))}
                </select>
              </label>
              <label class="al-mval">
                <span class="sr-only">Value {i + 1}</span>
                <input value={m.value} placeholder={m.op.includes('~') ? 'regular expression, e.g. db-.*' : 'value'} onInput={(ev) => set(i, { value: (ev.target as HTMLInputElement).value })} />
              </label>
              <button type="button" class="danger" onClick={() => setRows(rows.filter((_, j) => j !== i))} disabled={rows.length === 1} aria-label={`Remove matcher ${i + 1}`} title="Remove this matcher">
                ✕
              </button>
              {e && <p class="al-err small">{e}</p>}
            </div>
          );
        })}
        <datalist id="al-label-names">
          {[...new Set(p.alerts.flatMap((a) => Object.keys(a.labels)))].sort().map((k) => (
            <option value={k} />
          ))}
        </datalist>
        <button type="button" onClick={() => setRows([...rows, { name: '', op: '=', value: '' }])}>
          + Add matcher
        </button>
      </fieldset>

      <fieldset class="al-when">
        <legend>When</legend>
        <label class="field">
          <span>Starts</span>
          <input type="datetime-local" value={startAt} onInput={(e) => setStartAt((e.target as HTMLInputElement).value)} />
          <small class="muted">{startAt ? '' : 'Empty: now.'}</small>
        </label>
        <div class="field">
          <span>Ends</span>
          <div class="al-radio">
            <label>
              <input type="radio" name="al-mode" checked={mode === 'duration'} onChange={() => setMode('duration')} /> after
            </label>
            <input aria-label="Duration" value={duration} disabled={mode !== 'duration'} size={8} onInput={(e) => setDuration((e.target as HTMLInputElement).value)} />
            {['1h', '2h', '8h', '1d', '7d'].map((d) => (
              <button type="button" class={'al-chip' + (mode === 'duration' && duration === d ? ' on' : '')} onClick={() => (setMode('duration'), setDuration(d))}>
                {d}
              </button>
            ))}
          </div>
          <div class="al-radio">
            <label>
              <input type="radio" name="al-mode" checked={mode === 'end'} onChange={() => setMode('end')} /> at
            </label>
            <input type="datetime-local" aria-label="End time" value={endAt} disabled={mode !== 'end'} onInput={(e) => setEndAt((e.target as HTMLInputElement).value)} />
          </div>
          {end && !Number.isNaN(end.getTime()) && (
            <small class="muted">
              Ends {formatExactTime(end)}, lasts {formatDuration((end.getTime() - start.getTime()) / 1000)}.
            </small>
          )}
        </div>
      </fieldset>

      <label class="field">
        <span>Comment</span>
        <textarea rows={2} value={comment} required placeholder="Why, and a ticket if there is one: “db1 disk swap, CHG-1234”" onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)} />
      </label>

      <div class="al-preview" aria-live="polite">
        {valid && rows.length > 0 && (
          <p class="small">
            {affected.length === 0
              ? 'No alert firing now matches these matchers (the silence will still apply to matching alerts later).'
              : `Silences ${affected.length} alert${affected.length === 1 ? '' : 's'} firing now: ${affected
                  .slice(0, 5)
                  .map((a) => a.labels.alertname + (a.labels.instance ? ` on ${a.labels.instance}` : ''))
                  .join(', ')}${affected.length > 5 ? ` and ${affected.length - 5} more` : ''}.`}
          </p>
        )}
      </div>
      {tried && problems.length > 0 && (
        <ul class="al-problems" role="alert">
          {problems.map((x) => (
            <li>{x}</li>
          ))}
        </ul>
      )}
      {err && (
        <p class="state error" role="alert">
          The server refused the silence: {err}
        </p>
      )}
      <div class="al-form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create silence'}
        </button>
        <button type="button" onClick={p.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------- silence lists

/** A future time as "in 1 h 42 min" (a past one as RelTime), exact time as tooltip. */
function Until(p: { t: string }) {
  const secs = (Date.parse(p.t) - Date.now()) / 1000;
  if (!(secs > 0)) return <RelTime t={p.t} />;
  return (
    <time dateTime={p.t} title={formatExactTime(p.t)}>
      in {formatDuration(secs < 60 ? secs : Math.round(secs / 60) * 60)}
    </time>
  );
}

function Matchers(p: { s: Silence }) {
  return (
    <ul class="al-labels al-ms">
      {p.s.matchers.map((m) => (
        <li>
          <code>{matcherText(m)}</code>
        </li>
      ))}
    </ul>
  );
}

function silenceStateWords(state: string): [Tone, string] {
  if (state === 'active') return ['info', 'Active'];
  if (state === 'pending') return ['warn', 'Pending'];
  return ['muted', 'Expired'];
}

function ExpireButton(p: { s: Silence; label?: string; onDone: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  if (p.s.status.state === 'expired') return null;
  const expire = async () => {
    setBusy(true);
    setErr('');
    try {
      await amCall('DELETE', '/api/v2/silence/' + encodeURIComponent(p.s.id));
      setConfirming(false);
      p.onDone();
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="al-expire">
      {!confirming ? (
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          {p.label ?? 'Expire'}
        </button>
      ) : (
        <span role="group" aria-label="Confirm">
          <span class="small">{p.s.status.state === 'pending' ? 'Cancel it before it starts?' : 'End it now? Matching alerts notify again.'}</span>{' '}
          <button type="button" class="danger" disabled={busy} onClick={expire}>
            {busy ? 'Expiring…' : 'Yes, expire'}
          </button>{' '}
          <button type="button" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </span>
      )}
      {err && (
        <span class="al-err small" role="alert">
          {err}
        </span>
      )}
    </span>
  );
}

function SilenceList(p: { silences: Silence[]; data: boolean; loading: boolean; error: unknown; retry: () => void; alerts: AMAlert[]; operate: boolean; onChanged: () => void; onRecreate: (s: Silence) => void }) {
  const [showExpired, setShowExpired] = useState(false);
  if (!p.data && p.error) return <ErrorBox error={p.error} retry={p.retry} what="the silences" />;
  if (!p.data) return <Loading what="silences" />;
  const { active, pending, expired } = splitSilences(p.silences);
  const rows = [...active, ...pending, ...(showExpired ? expired : [])];
  const silencedCount = (id: string) => p.alerts.filter((a) => a.status.silencedBy?.includes(id)).length;
  return (
    <>
      {p.error ? <ErrorBox error={p.error} retry={p.retry} what="the latest silences" /> : null}
      <div class="al-filters">
        <p class="muted small">
          {active.length} active, {pending.length} pending, {expired.length} expired (kept for the Alertmanager retention). Maintenance windows' silences are under Maintenance windows.
        </p>
        <label class="al-check">
          <input type="checkbox" checked={showExpired} onChange={(e) => setShowExpired((e.target as HTMLInputElement).checked)} /> Show expired
        </label>
      </div>
      {rows.length === 0 ? (
        <Empty>{active.length + pending.length === 0 ? 'No active or pending silences.' : 'Nothing to show.'}</Empty>
      ) : (
        <table class="stack">
          <TableHead cols={['State', 'Matchers', 'Starts', 'Ends', 'Created by', 'Comment']} actions />
          <tbody>
            {rows.map((s) => {
              const [tone, word] = silenceStateWords(s.status.state);
              const n = s.status.state === 'active' ? silencedCount(s.id) : 0;
              return (
                <tr id={'silence-' + s.id} class={location.hash === '#silence-' + s.id ? 'al-target' : ''}>
                  <td data-label="State">
                    <Status tone={tone} text={word} title={s.id} />
                    {n > 0 && <div class="small muted">{n} alert{n === 1 ? '' : 's'} muted</div>}
                  </td>
                  <td data-label="Matchers">
                    <Matchers s={s} />
                  </td>
                  <td data-label="Starts">
                    <RelTime t={s.startsAt} />
                  </td>
                  <td data-label="Ends">
                    <Until t={s.endsAt} />
                  </td>
                  <td data-label="Created by">{s.createdBy}</td>
                  <td data-label="Comment" class="al-comment">
                    {s.comment}
                  </td>
                  <td data-label="Actions" class={'al-row-actions' + (p.operate ? '' : ' ck-empty')}>
                    {p.operate && <ExpireButton s={s} onDone={p.onChanged} />}
                    {p.operate && s.status.state === 'expired' && (
                      <button type="button" onClick={() => p.onRecreate(s)}>
                        Silence again…
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}

function MaintenanceList(p: { silences: Silence[]; data: boolean; loading: boolean; error: unknown; retry: () => void; operate: boolean; onChanged: () => void }) {
  const [showEnded, setShowEnded] = useState(false);
  if (!p.data && p.error) return <ErrorBox error={p.error} retry={p.retry} what="the maintenance windows" />;
  if (!p.data) return <Loading what="maintenance windows" />;
  const { active, pending, expired } = splitSilences(p.silences);
  const rows = [...active, ...pending, ...(showEnded ? expired : [])];
  return (
    <>
      <div class="al-filters">
        <p class="muted small">
          Maintenance windows are set in the configuration (<code>alertmanager.maintenance_windows</code>); each opening becomes a silence up to a day ahead. Ending one early expires only that opening.
        </p>
        <label class="al-check">
          <input type="checkbox" checked={showEnded} onChange={(e) => setShowEnded((e.target as HTMLInputElement).checked)} /> Show ended
        </label>
      </div>
      {rows.length === 0 ? (
        <Empty>{p.silences.length === 0 ? 'No maintenance windows are configured, or none opens within the next day.' : 'No maintenance window is open or scheduled within the next day.'}</Empty>
      ) : (
        <table class="stack">
          <TableHead cols={['Window', 'State', 'When', 'Matchers', 'Comment']} actions />
          <tbody>
            {rows.map((s) => {
              const [tone, word] = s.status.state === 'active' ? (['info', 'In progress'] as [Tone, string]) : s.status.state === 'pending' ? (['warn', 'Scheduled'] as [Tone, string]) : (['muted', 'Ended'] as [Tone, string]);
              return (
                <tr id={'silence-' + s.id}>
                  <td data-label="Window">
                    <strong>{windowName(s) || '(unnamed)'}</strong>
                  </td>
                  <td data-label="State">
                    <Status tone={tone} text={word} />
                  </td>
                  <td data-label="When">
                    <div>
                    <span title={`${formatExactTime(s.startsAt)} to ${formatExactTime(s.endsAt)}`}>
                      {s.status.state === 'pending' ? (
                        <>
                          starts <Until t={s.startsAt} />, lasts {formatDuration((Date.parse(s.endsAt) - Date.parse(s.startsAt)) / 1000)}
                        </>
                      ) : s.status.state === 'active' ? (
                        <>
                          ends <Until t={s.endsAt} />
                        </>
                      ) : (
                        <>
                          ended <RelTime t={s.endsAt} />
                        </>
                      )}
                    </span>
                    <div class="small muted">{formatExactTime(s.startsAt)}</div>
                    </div>
                  </td>
                  <td data-label="Matchers">
                    <Matchers s={s} />
                  </td>
                  <td data-label="Comment" class="al-comment">
                    {s.comment}
                  </td>
                  <td data-label="Actions" class={'al-row-actions' + (p.operate ? '' : ' ck-empty')}>
                    {p.operate && <ExpireButton s={s} label={s.status.state === 'pending' ? 'Skip this one' : 'End now'} onDone={p.onChanged} />}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}

