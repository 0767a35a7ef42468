// Small shared pieces of pages: times, status, loading, empty and error states.
import type { ComponentChildren } from 'preact';
import { errorMessage } from './api';
import { formatExactTime, timeAgo } from './format';

/** "3 min ago" with the exact time as tooltip, in a <time> element. */
export function RelTime(p: { t: Date | number | string | null | undefined; never?: string }) {
  if (p.t === null || p.t === undefined || p.t === '' || timeAgo(p.t) === 'never') return <span>{p.never ?? 'never'}</span>;
  const exact = formatExactTime(p.t);
  const d = typeof p.t === 'number' ? new Date(p.t < 1e11 ? p.t * 1000 : p.t) : new Date(p.t);
  return (
    <time dateTime={d.toISOString()} title={exact}>
      {timeAgo(p.t)}
    </time>
  );
}

export type Tone = 'ok' | 'warn' | 'bad' | 'muted' | 'info';

const ICONS: Record<Tone, string> = { ok: '✔', warn: '▲', bad: '✖', muted: '●', info: 'ℹ' };

/** A status in words, with an icon and a colour (never the colour alone). */
export function Status(p: { tone: Tone; text: string; title?: string }) {
  return (
    <span class={'status ' + p.tone} title={p.title}>
      <span aria-hidden="true">{ICONS[p.tone]}</span> {p.text}
    </span>
  );
}

export function Loading(p: { what?: string }) {
  return (
    <p class="state loading" role="status">
      Loading{p.what ? ' ' + p.what : ''}…
    </p>
  );
}

export function Empty(p: { children: ComponentChildren }) {
  return <p class="state empty">{p.children}</p>;
}

/** An error from the server with what to do; retry shows a button. */
export function ErrorBox(p: { error: unknown; retry?: () => void; what?: string }) {
  return (
    <div class="state error" role="alert">
      <p>
        {p.what ? `Could not load ${p.what}: ` : ''}
        {errorMessage(p.error)}
      </p>
      {p.retry && (
        <button type="button" onClick={p.retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** The standard page head: title, optional subtitle and actions at the right. */
export function PageHead(p: { title: ComponentChildren; sub?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <header class="page-head">
      <div>
        <h1>{p.title}</h1>
        {p.sub && <p class="sub">{p.sub}</p>}
      </div>
      {p.children && <div class="actions">{p.children}</div>}
    </header>
  );
}

/** A table's header row: one column per label (false leaves a column out),
 * and an unlabelled actions column when actions is set. */
export function TableHead(p: { cols: (string | false | undefined)[]; actions?: boolean }) {
  return (
    <thead>
      <tr>
        {p.cols.map((c) => c !== false && c !== undefined && <th scope="col">{c}</th>)}
        {p.actions && (
          <th scope="col">
            <span class="sr-only">Actions</span>
          </th>
        )}
      </tr>
    </thead>
  );
}
