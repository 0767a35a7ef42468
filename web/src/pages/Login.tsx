// /login: user name and password; goes to ?next= or the role's home.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, homeOf, login, useSession } from '../api';
import { formatDuration } from '../format';
import { navigate, useLocation } from '../router';
import type { PageProps } from '../routes';

/** Only paths of this site, never another origin ("//evil", "https://…"). */
export function safeNext(next: string | null): string | null {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/login')) return null;
  return next;
}

export default function Login(_p: PageProps) {
  const loc = useLocation();
  const s = useSession();
  const next = safeNext(loc.query.get('next'));
  const [user, setUser] = useState('');
  const [pass, setPass] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [waitUntil, setWaitUntil] = useState(0);
  const [now, setNow] = useState(Date.now());
  const passRef = useRef<HTMLInputElement>(null);

  // Already logged in: go on.
  useEffect(() => {
    if (s.state === 'ready' && !busy) navigate(next ?? homeOf(s.role), { replace: true });
  }, [s.state]);

  // Count down a 429's wait.
  useEffect(() => {
    if (waitUntil <= Date.now()) return;
    const t = setInterval(() => {
      setNow(Date.now());
      if (Date.now() >= waitUntil) clearInterval(t);
    }, 1000);
    return () => clearInterval(t);
  }, [waitUntil]);
  const wait = Math.max(0, Math.ceil((waitUntil - now) / 1000));

  async function submit(e: Event) {
    e.preventDefault();
    if (busy || wait > 0) return;
    if (!user.trim() || !pass) {
      setError('Enter your user name and password.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      const ss = await login(user.trim(), pass);
      navigate(next ?? homeOf(ss.role), { replace: true });
    } catch (err) {
      setPass('');
      passRef.current?.focus();
      if (err instanceof ApiError && err.status === 401) setError('Wrong user name or password.');
      else if (err instanceof ApiError && err.status === 429) {
        const secs = err.retryAfter ?? 60;
        setWaitUntil(Date.now() + secs * 1000);
        setNow(Date.now());
        setError(`Too many failed attempts. Wait ${formatDuration(secs)} before trying again.`);
      } else if (err instanceof ApiError && err.status === 0) setError('The server could not be reached. Check your connection and try again.');
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login-page" id="main">
      <form class="login panel" onSubmit={submit} noValidate>
        <h1>
          <span class="logo" aria-hidden="true">
            ◉
          </span>{' '}
          SayPro Monitor
        </h1>
        <p class="muted">Log in to see your hosts, checks and incidents.</p>
        {next && next !== '/' && <p class="small muted">You will go on to {next} afterwards.</p>}
        <label class="field">
          <span>User name</span>
          <input name="username" autoComplete="username" autoFocus value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} required />
        </label>
        <label class="field">
          <span>Password</span>
          <input ref={passRef} name="password" type="password" autoComplete="current-password" value={pass} onInput={(e) => setPass((e.target as HTMLInputElement).value)} required />
        </label>
        {error && (
          <p class="state error" role="alert">
            {error}
            {wait > 0 && <span class="small"> ({wait} s left)</span>}
          </p>
        )}
        <button type="submit" class="primary wide" disabled={busy || wait > 0}>
          {busy ? 'Logging in…' : wait > 0 ? `Wait ${wait} s` : 'Log in'}
        </button>
        <p class="small muted">Forgotten your password? An administrator can set a new one.</p>
      </form>
    </main>
  );
}
