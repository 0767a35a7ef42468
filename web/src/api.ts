// Typed client of the server's JSON APIs: envelope unwrapping, CSRF header,
// 401 → login, errors as ApiError; the session store; PromQL helpers; live
// events (SSE) with reconnect.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { location, navigate } from './router';

/** An error answer of the server, or a network failure (status 0). */
export class ApiError extends Error {
  status: number;
  errorType: string;
  /** Seconds to wait, from a Retry-After header (429, 503). */
  retryAfter?: number;
  constructor(status: number, message: string, errorType = '', retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.errorType = errorType;
    this.retryAfter = retryAfter;
  }
}

/** A message for the user about err, with what to do where that is known. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return `Your role (${session.role || 'unknown'}) may not do this.`;
    if (err.status === 0) return `${err.message} Check that the server is running and reachable, then try again.`;
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  method?: Method;
  /** JSON body (objects) or a prepared body (URLSearchParams, string). */
  body?: unknown;
  /** Query parameters; undefined and null values are left out. */
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
  /** Do not go to /login on a 401 (the login page itself). */
  noRedirect?: boolean;
}

function isUnsafe(m: Method) {
  return m !== 'GET';
}

/** Builds a URL with query parameters. */
export function withQuery(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? path + (path.includes('?') ? '&' : '?') + s : path;
}

/** Sends the browser to the login page, coming back here afterwards. */
export function redirectToLogin() {
  const loc = location();
  if (loc.path === '/login') return;
  const next = loc.path + (loc.search ? '?' + loc.search : '');
  navigate('/login?next=' + encodeURIComponent(next), { replace: true });
}

/**
 * Calls an API path and returns the envelope's data. Throws ApiError for
 * every failure; a 401 also sends the browser to the login page.
 */
export async function api<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: BodyInit | undefined;
  if (opts.body !== undefined) {
    if (opts.body instanceof URLSearchParams || typeof opts.body === 'string') {
      body = opts.body as BodyInit;
    } else {
      body = JSON.stringify(opts.body);
      headers['Content-Type'] = 'application/json';
    }
  }
  if (isUnsafe(method) && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), { method, headers, body, credentials: 'same-origin', signal: opts.signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server could not be reached.', 'network');
  }
  if (res.status === 204) return undefined as T;
  let payload: any = null;
  const text = await res.text();
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = null;
    }
  }
  if (res.status === 401 && !opts.noRedirect) {
    clearSession();
    redirectToLogin();
  }
  if (!res.ok || (payload && payload.status === 'error')) {
    const ra = res.headers.get('Retry-After');
    const retry = ra && /^\d+$/.test(ra) ? parseInt(ra, 10) : undefined;
    let msg = payload?.error as string | undefined;
    if (!msg) {
      if (res.status === 401) msg = 'You are not logged in, or your session has ended.';
      else if (res.status === 403) msg = 'Forbidden.';
      else if (res.status === 404) msg = 'Not found.';
      else msg = `The server answered ${res.status} ${res.statusText}.`.replace(/ \./, '.');
    }
    throw new ApiError(res.status, msg, payload?.errorType ?? '', retry);
  }
  if (payload && typeof payload === 'object' && 'status' in payload && 'data' in payload) return payload.data as T;
  return payload as T;
}

// ---------------------------------------------------------------- session

export type Permission = 'view' | 'respond' | 'operate' | 'admin';
export type Role = 'admin' | 'sysadmin' | 'devops' | 'support' | string;

export interface SessionState {
  /** loading: not asked yet; ready: logged in; anonymous: not logged in. */
  state: 'loading' | 'ready' | 'anonymous';
  user: string;
  role: Role;
  permissions: Permission[];
  csrf: string;
}

interface SessionAnswer {
  user: { name: string; role: Role };
  csrf_token: string;
  permissions?: Permission[];
}

/** The session now; read it in components through useSession(). */
export const session: SessionState = { state: 'loading', user: '', role: '', permissions: [], csrf: '' };
const sessionListeners = new Set<() => void>();

function setSession(s: Partial<SessionState>) {
  Object.assign(session, s);
  for (const l of sessionListeners) l();
}

export function clearSession() {
  setSession({ state: 'anonymous', user: '', role: '', permissions: [], csrf: '' });
}

/** Whether the logged-in user has the permission. */
export function can(p: Permission): boolean {
  return session.permissions.includes(p);
}

/** Where a role starts after logging in. */
export function homeOf(role: Role): string {
  switch (role) {
    case 'sysadmin':
      return '/home/sysadmin';
    case 'devops':
      return '/home/devops';
    case 'support':
      return '/home/support';
    default:
      return '/';
  }
}

const fallbackPermissions: Record<string, Permission[]> = {
  admin: ['view', 'respond', 'operate', 'admin'],
  sysadmin: ['view', 'respond', 'operate'],
  devops: ['view', 'respond', 'operate'],
  support: ['view', 'respond'],
  viewer: ['view'],
};

function applyAnswer(a: SessionAnswer) {
  setSession({
    state: 'ready',
    user: a.user.name,
    role: a.user.role,
    permissions: a.permissions ?? fallbackPermissions[a.user.role] ?? ['view'],
    csrf: a.csrf_token ?? '',
  });
}

/** Asks the server who is logged in; a 401 leaves the session anonymous. */
export async function loadSession(): Promise<SessionState> {
  try {
    applyAnswer(await api<SessionAnswer>('/api/v1/auth/session', { noRedirect: true }));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) clearSession();
    else throw e;
  }
  return session;
}

/** Logs in; throws ApiError (401 bad credentials, 429 with retryAfter). */
export async function login(username: string, password: string): Promise<SessionState> {
  const a = await api<SessionAnswer>('/api/v1/auth/login', { method: 'POST', body: { username, password }, noRedirect: true });
  applyAnswer(a);
  // The session answer carries the permissions; the login answer may not.
  try {
    await loadSession();
  } catch {
    /* keep what login said */
  }
  return session;
}

export async function logout() {
  try {
    await api('/api/v1/auth/logout', { method: 'POST', noRedirect: true });
  } finally {
    clearSession();
    navigate('/login', { replace: true });
  }
}

/** The session; the component re-renders when it changes. */
export function useSession(): SessionState {
  const [, setN] = useState(0);
  useEffect(() => {
    const l = () => setN((n) => n + 1);
    sessionListeners.add(l);
    return () => {
      sessionListeners.delete(l);
    };
  }, []);
  return session;
}

// ---------------------------------------------------------------- data hook

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Fetches again; the old data stays shown meanwhile. */
  reload: () => void;
}

/**
 * Runs fn (which gets an AbortSignal) when deps change and on reload(); keeps
 * the last good data while a new request runs and aborts superseded ones.
 */
export function useApi<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error: unknown; loading: boolean }>({ error: null, loading: true });
  const [n, setN] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    const ac = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    fnRef.current(ac.signal).then(
      (data) => {
        if (!ac.signal.aborted) setState({ data, error: null, loading: false });
      },
      (error) => {
        if (!ac.signal.aborted) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

// ---------------------------------------------------------------- PromQL

export type Labels = Record<string, string>;
export type SamplePair = [number, string];
export interface VectorSample {
  metric: Labels;
  value: SamplePair;
}
export interface MatrixSeries {
  metric: Labels;
  values: SamplePair[];
}
export type PromResult =
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'scalar'; result: SamplePair }
  | { resultType: 'string'; result: SamplePair };

/** An instant query; time in Unix seconds (default: now). */
export function promQuery(expr: string, time?: number, signal?: AbortSignal): Promise<PromResult> {
  return api<PromResult>('/api/v1/query', { query: { query: expr, time }, signal });
}

/** A range query; times in Unix seconds, step in seconds. */
export function promRange(expr: string, start: number, end: number, step: number, signal?: AbortSignal): Promise<PromResult> {
  return api<PromResult>('/api/v1/query_range', { query: { query: expr, start, end, step }, signal });
}

/** An instant query's vector as a map from one label's value to the number. */
export async function promByLabel(expr: string, label = 'instance', signal?: AbortSignal): Promise<Map<string, number>> {
  const r = await promQuery(expr, undefined, signal);
  const m = new Map<string, number>();
  if (r.resultType === 'vector') for (const s of r.result) m.set(s.metric[label] ?? '', parseFloat(s.value[1]));
  return m;
}

// ---------------------------------------------------------------- live events

export interface LiveEvent {
  kind: string;
  id: string;
  data: any;
}

export type StreamStatus = 'connecting' | 'open' | 'down';

/**
 * Follows /api/v1/events for the given kinds ("incident", "alert", …; empty:
 * all). Reconnects with backoff after failures, asking for missed events
 * with ?since=. A "dropped" event (events lost) is passed on as well so
 * pages can refetch. Returns the function that stops it.
 */
export function subscribeEvents(kinds: string[], onEvent: (e: LiveEvent) => void, onStatus?: (s: StreamStatus) => void): () => void {
  let es: EventSource | null = null;
  let lastId = '';
  let stopped = false;
  let delay = 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const handle = (kind: string) => (ev: MessageEvent) => {
    if (ev.lastEventId) lastId = ev.lastEventId;
    let data: any = ev.data;
    try {
      data = JSON.parse(ev.data);
    } catch {
      /* keep the text */
    }
    onEvent({ kind, id: ev.lastEventId, data });
  };

  const connect = () => {
    if (stopped) return;
    onStatus?.('connecting');
    const q: Record<string, string> = {};
    if (kinds.length) q.kinds = kinds.join(',');
    if (lastId) q.since = lastId;
    es = new EventSource(withQuery('/api/v1/events', q), { withCredentials: true });
    es.onopen = () => {
      delay = 1000;
      onStatus?.('open');
    };
    for (const k of kinds.length ? kinds : ['incident', 'alert', 'check', 'host']) es.addEventListener(k, handle(k) as EventListener);
    es.addEventListener('dropped', handle('dropped') as EventListener);
    es.onmessage = handle('message');
    es.onerror = () => {
      if (!es || es.readyState !== EventSource.CLOSED) {
        onStatus?.('connecting');
        return; // the browser retries by itself
      }
      onStatus?.('down');
      es = null;
      // EventSource gives up on HTTP errors; check the session (a 401 goes to login) and retry.
      loadSession()
        .then((s) => {
          if (s.state === 'anonymous') redirectToLogin();
        })
        .catch(() => {});
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  };
  connect();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    es?.close();
  };
}

/** Calls onEvent for live events of the kinds while the component is mounted. */
export function useEvents(kinds: string[], onEvent: (e: LiveEvent) => void): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const ref = useRef(onEvent);
  ref.current = onEvent;
  const key = kinds.join(',');
  useEffect(() => subscribeEvents(kinds, (e) => ref.current(e), setStatus), [key]);
  return status;
}
