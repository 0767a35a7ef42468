// /incidents/{id}: an incident's status, severity, service, host, times and
// durations, its alerts and timeline, and the actions the role allows:
// acknowledge and note (respond), edit, resolve and reopen (operate). Live:
// events of this incident reload it.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, can, errorMessage, useApi, useEvents, useSession } from '../api';
import { formatDuration, formatExactTime } from '../format';
import type { PageProps } from '../routes';
import { Empty, ErrorBox, Loading, PageHead, RelTime, Status } from '../widgets';
import { runbookOf } from './alertsModel';
import { incidentLogsHref } from './logsModel';
import { alertsExpr, between, foldTimeline, hostLink, incidentWindow, isFailure, kindWords, severityTone, SEVERITIES, statusWords, type Incident } from './incidentsModel';

function When(p: { t: string | null; by?: string; none: string; after?: number | null; afterWhat?: string }) {
  if (!p.t) return <span class="muted">{p.none}</span>;
  return (
    <>
      <RelTime t={p.t} />
      <span class="small muted"> · {formatExactTime(p.t)}</span>
      {p.by && <div class="small">by {p.by}</div>}
      {p.after !== null && p.after !== undefined && (
        <div class="small muted">
          {formatDuration(p.after)} {p.afterWhat}
        </div>
      )}
    </>
  );
}

export default function IncidentDetail(p: PageProps) {
  const id = p.params.id;
  useSession();
  const q = useApi((signal) => api<Incident>('/api/v1/incidents/' + encodeURIComponent(id), { signal }), [id]);
  const [inc, setInc] = useState<Incident | undefined>();
  useEffect(() => {
    if (q.data) setInc(q.data);
  }, [q.data]);
  useEffect(() => {
    if (inc) document.title = `#${inc.id} ${inc.title} · SayPro Monitor`;
  }, [inc?.id, inc?.title]);
  const stream = useEvents(['incident'], (e) => {
    if (String(e.data?.incident?.id) === id) q.reload();
  });

  const [busy, setBusy] = useState('');
  const [err, setErr] = useState('');
  const act = async (what: string, method: 'POST' | 'PATCH', path: string, body?: unknown) => {
    setBusy(what);
    setErr('');
    try {
      const r = await api<Incident>('/api/v1/incidents/' + encodeURIComponent(id) + path, { method, body: body ?? {} });
      if (r) setInc(r);
      return true;
    } catch (x) {
      setErr(errorMessage(x));
      if (x instanceof ApiError && x.status === 409) q.reload();
      return false;
    } finally {
      setBusy('');
    }
  };

  if (!inc && q.error) {
    if (q.error instanceof ApiError && q.error.status === 404)
      return (
        <>
          <PageHead title={`Incident ${id}`} />
          <p class="state empty">
            There is no incident {id}. See the <a href="/incidents?status=all">list of incidents</a>.
          </p>
        </>
      );
    return (
      <>
        <PageHead title={`Incident ${id}`} />
        <ErrorBox error={q.error} retry={q.reload} what="the incident" />
      </>
    );
  }
  if (!inc) return <Loading what="the incident" />;

  const [tone, word] = statusWords(inc.status);
  const respond = can('respond');
  const operate = can('operate');
  const win = incidentWindow(inc);
  const explore = `/explore?q=${encodeURIComponent(alertsExpr(inc))}&from=${win.from}&to=${win.to}`;
  const openFor = inc.resolved_at ? inc.mttr_seconds : (Date.now() - Date.parse(inc.opened_at)) / 1000;
  const timeline = inc.timeline ?? [];
  const alerts = inc.alerts ?? [];

  return (
    <>
      <p class="small inc-crumb">
        <a href="/incidents">← Incidents</a>
      </p>
      <PageHead
        title={
          <>
            <span class="muted">#{inc.id}</span> {inc.title}
          </>
        }
        sub={
          <span class="inc-badges">
            <Status tone={tone} text={word} />
            <Status tone={severityTone(inc.severity)} text={inc.severity} title="Severity" />
            <span>
              {inc.resolved_at ? 'lasted' : 'open for'} {formatDuration(openFor)}
            </span>
            <span class={'al-live ' + stream} role="status">
              <span aria-hidden="true">{stream === 'open' ? '●' : '○'}</span> {stream === 'open' ? 'Live' : 'Reconnecting…'}
            </span>
          </span>
        }
      >
        {respond && inc.status === 'open' && (
          <button type="button" class="primary" disabled={!!busy} onClick={() => act('ack', 'POST', '/ack')}>
            {busy === 'ack' ? 'Acknowledging…' : 'Acknowledge'}
          </button>
        )}
        {operate && inc.status !== 'resolved' && (
          <ConfirmButton label="Resolve" confirm="Resolve this incident? Its alerts may still be firing." busy={busy === 'resolve'} onYes={() => act('resolve', 'POST', '/resolve')} />
        )}
        {operate && inc.status === 'resolved' && <ConfirmButton label="Reopen" confirm="Reopen this incident?" busy={busy === 'reopen'} onYes={() => act('reopen', 'POST', '/reopen')} />}
      </PageHead>
      {err && (
        <p class="state error" role="alert">
          {err}
        </p>
      )}

      <div class="inc-detail">
        <div class="inc-col">
          <section class="panel" aria-labelledby="inc-facts">
            <h2 id="inc-facts">Details</h2>
            <dl class="inc-facts">
              <dt>Service</dt>
              <dd>{inc.service ? <a href={'/incidents?status=all&service=' + encodeURIComponent(inc.service)}>{inc.service}</a> : <span class="muted">none</span>}</dd>
              <dt>Host</dt>
              <dd class="ca-wrap">{inc.host ? hostLink(inc.host) ? <a href={'/hosts/' + encodeURIComponent(inc.host)}>{inc.host}</a> : inc.host : <span class="muted">none</span>}</dd>
              <dt>Opened</dt>
              <dd>
                <When t={inc.opened_at} none="" />
              </dd>
              <dt>Acknowledged</dt>
              <dd>
                <When t={inc.acknowledged_at} by={inc.acknowledged_by} none="not yet" after={inc.mtta_seconds} afterWhat="after opening" />
              </dd>
              <dt>Resolved</dt>
              <dd>
                <When t={inc.resolved_at} by={inc.resolved_by} none="not yet" after={inc.mttr_seconds} afterWhat="after opening" />
              </dd>
              <dt>Receiver</dt>
              <dd>{inc.receiver || <span class="muted">none</span>}</dd>
              <dt>Root cause</dt>
              <dd class="ca-wrap">{inc.root_cause || <span class="muted">not written down yet</span>}</dd>
            </dl>
            <p class="small">
              <a href={explore}>Explore the alerts in this incident's time window</a>
              {' · '}
              <a href={incidentLogsHref(inc)}>Logs in this window</a>
              {inc.host && hostLink(inc.host) && (
                <>
                  {' · '}
                  <a href={`/hosts/${encodeURIComponent(inc.host)}?from=${win.from}&to=${win.to}`}>Host metrics then</a>
                </>
              )}
            </p>
            {operate && <EditForm inc={inc} busy={busy === 'edit'} onSave={(body) => act('edit', 'PATCH', '', body)} />}
          </section>

          <section class="panel" aria-labelledby="inc-alerts">
            <h2 id="inc-alerts">
              Alerts <span class="al-count">{alerts.length}</span>
            </h2>
            {alerts.length === 0 ? (
              <Empty>No alerts recorded for this incident.</Empty>
            ) : (
              <ul class="al-alerts">
                {alerts.map((a) => {
                  const rb = runbookOf(a);
                  const summary = a.annotations?.summary || a.annotations?.message || '';
                  return (
                    <li class="al-alert">
                      <div class="al-alert-top">
                        <Status tone={a.state === 'firing' ? 'bad' : 'ok'} text={a.state === 'firing' ? 'Firing' : 'Resolved'} />
                        <strong>{a.labels.alertname}</strong>
                        <span class="small muted">
                          {between(a.starts_at, a.ends_at) !== null ? (
                            <>
                              fired {formatDuration(between(a.starts_at, a.ends_at))} from <RelTime t={a.starts_at} />
                            </>
                          ) : (
                            <>
                              started <RelTime t={a.starts_at} />
                            </>
                          )}
                        </span>
                        {rb && (
                          <a class="al-actions" href={rb} target="_blank" rel="noopener noreferrer">
                            Runbook
                          </a>
                        )}
                      </div>
                      {summary && <p class="al-summary">{summary}</p>}
                      {a.annotations?.description && a.annotations.description !== summary && <p class="al-desc">{a.annotations.description}</p>}
                      <ul class="al-labels" aria-label="Labels">
                        {Object.entries(a.labels)
                          .filter(([k]) => k !== 'alertname')
                          .sort(([x], [y]) => x.localeCompare(y))
                          .map(([k, v]) => (
                            <li>
                              <span class="k">{k}</span>=<span class="v">{v}</span>
                            </li>
                          ))}
                      </ul>
                    </li>
                  );
                })}
              </ul>
            )}
          </section>
        </div>

        <section class="panel inc-col" aria-labelledby="inc-timeline">
          <h2 id="inc-timeline">Timeline</h2>
          {respond && <NoteForm busy={busy === 'note'} onAdd={(text) => act('note', 'POST', '/notes', { text })} />}
          {timeline.length === 0 ? (
            <Empty>Nothing on the timeline yet.</Empty>
          ) : (
            <ol class="inc-timeline">
              {foldTimeline(timeline).map((e) => {
                const [icon, label] = kindWords(e.kind);
                const fail = isFailure(e);
                return (
                  <li class={'inc-ev ' + e.kind + (fail ? ' failed' : '')}>
                    <span class="inc-ev-icon" aria-hidden="true">
                      {fail ? '✖' : icon}
                    </span>
                    <div class="inc-ev-body">
                      <div class="inc-ev-head">
                        <strong>{fail ? 'Notification failed' : label}</strong>
                        <span class="small muted">
                          {e.actor} · <RelTime t={e.time} />
                          {e.repeats > 1 && (
                            <>
                              {' '}
                              · {e.repeats} times since <RelTime t={e.firstTime} />
                            </>
                          )}
                        </span>
                      </div>
                      <p class={e.kind === 'note' ? 'inc-note' : ''}>{e.message}</p>
                    </div>
                  </li>
                );
              })}
            </ol>
          )}
        </section>
      </div>
    </>
  );
}

function ConfirmButton(p: { label: string; confirm: string; busy: boolean; onYes: () => Promise<boolean> | void }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" onClick={() => setAsking(true)}>
        {p.label}
      </button>
    );
  return (
    <span class="inc-confirm" role="group" aria-label={p.confirm}>
      <span class="small">{p.confirm}</span>
      <button
        type="button"
        class="primary"
        disabled={p.busy}
        onClick={async () => {
          await p.onYes();
          setAsking(false);
        }}
      >
        {p.busy ? '…' : `Yes, ${p.label.toLowerCase()}`}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

function NoteForm(p: { busy: boolean; onAdd: (text: string) => Promise<boolean> }) {
  const [text, setText] = useState('');
  return (
    <form
      class="inc-noteform"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!text.trim()) return;
        if (await p.onAdd(text.trim())) setText('');
      }}
    >
      <label class="field">
        <span>Add a note</span>
        <textarea rows={2} value={text} placeholder="What you found or did, for the next person and the post-mortem" onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </label>
      <button type="submit" disabled={p.busy || !text.trim()}>
        {p.busy ? 'Adding…' : 'Add note'}
      </button>
    </form>
  );
}

function EditForm(p: { inc: Incident; busy: boolean; onSave: (body: { severity?: string; title?: string; root_cause?: string }) => Promise<boolean> }) {
  const [open, setOpen] = useState(false);
  const [severity, setSeverity] = useState(p.inc.severity);
  const [title, setTitle] = useState(p.inc.title);
  const [rootCause, setRootCause] = useState(p.inc.root_cause);
  useEffect(() => {
    if (!open) {
      setSeverity(p.inc.severity);
      setTitle(p.inc.title);
      setRootCause(p.inc.root_cause);
    }
  }, [p.inc, open]);
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Edit title, severity, root cause…
      </button>
    );
  const body: { severity?: string; title?: string; root_cause?: string } = {};
  if (severity !== p.inc.severity) body.severity = severity;
  if (title.trim() !== p.inc.title) body.title = title.trim();
  if (rootCause.trim() !== p.inc.root_cause) body.root_cause = rootCause.trim();
  const changed = Object.keys(body).length > 0;
  return (
    <form
      class="inc-edit"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!changed) return setOpen(false);
        if (await p.onSave(body)) setOpen(false);
      }}
    >
      <label class="field">
        <span>Title (summary)</span>
        <input value={title} required onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      </label>
      <label class="field">
        <span>Severity</span>
        <select value={severity} onChange={(e) => setSeverity((e.target as HTMLSelectElement).value)}>
          {SEVERITIES.map((s) => (
            <option value={s}>{s}</option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>Root cause</span>
        <textarea rows={3} value={rootCause} placeholder="What caused it, in a sentence or two" onInput={(e) => setRootCause((e.target as HTMLTextAreaElement).value)} />
      </label>
      <div class="al-form-actions">
        <button type="submit" class="primary" disabled={p.busy || !changed || !title.trim()}>
          {p.busy ? 'Saving…' : 'Save'}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
