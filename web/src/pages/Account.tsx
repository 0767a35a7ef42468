// The user's own account: change the password, manage own API tokens.
import { useState } from 'preact/hooks';
import { api, ApiError, errorMessage, useSession } from '../api';
import { passwordHint } from '../format';
import type { PageProps } from '../routes';
import { TokenManager } from '../tokens';
import { PageHead } from '../widgets';

function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const hint = passwordHint(next);
  const mismatch = repeat !== '' && repeat !== next;
  const same = next !== '' && next === current;
  const ready = current !== '' && hint.ok && repeat === next && !same;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setErr(null);
    try {
      await api('/api/v1/auth/password', { method: 'POST', body: { current, new: next } });
      setDone(true);
      setCurrent('');
      setNext('');
      setRepeat('');
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };

  if (done)
    return (
      <div class="state ok-box" role="status">
        <p>
          <strong>✔ Your password was changed.</strong> For safety every session of yours has ended, this one too: log in again with the new
          password.
        </p>
        <a class="button primary" href="/login?next=%2Faccount">
          Log in again
        </a>
      </div>
    );
  return (
    <form class="password-form" onSubmit={submit}>
      <label class="field">
        <span>Current password</span>
        <input type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent((e.target as HTMLInputElement).value)} />
      </label>
      <label class="field">
        <span>New password</span>
        <input
          type="password"
          autocomplete="new-password"
          required
          minLength={12}
          aria-describedby="pw-hint"
          value={next}
          onInput={(e) => setNext((e.target as HTMLInputElement).value)}
        />
        <small id="pw-hint" class={next === '' ? 'muted' : hint.ok ? 'ok-text' : 'warn-text'} aria-live="polite">
          {next !== '' && (hint.ok ? '✔ ' : '▲ ')}
          {hint.text}
        </small>
      </label>
      <label class="field">
        <span>Repeat the new password</span>
        <input
          type="password"
          autocomplete="new-password"
          required
          aria-describedby="pw-repeat"
          aria-invalid={mismatch}
          value={repeat}
          onInput={(e) => setRepeat((e.target as HTMLInputElement).value)}
        />
        <small id="pw-repeat" class={mismatch ? 'warn-text' : 'muted'} aria-live="polite">
          {mismatch ? '▲ The two new passwords differ.' : same ? '▲ The new password is the same as the current one.' : ' '}
        </small>
      </label>
      {err !== null && (
        <p class="state error" role="alert">
          Could not change the password: {errorMessage(err)}
          {err instanceof ApiError && err.status === 429 && err.retryAfter ? ` Try again in ${err.retryAfter} s.` : ''}
        </p>
      )}
      <button type="submit" class="primary" disabled={!ready || busy}>
        {busy ? 'Changing…' : 'Change password'}
      </button>
    </form>
  );
}

export default function Account(_p: PageProps) {
  const s = useSession();
  return (
    <>
      <PageHead
        title="Your account"
        sub={
          <>
            Logged in as <strong>{s.user}</strong> with the role <strong>{s.role}</strong>.
          </>
        }
      />
      <div class="account-grid">
        <section class="panel" aria-labelledby="pw-title">
          <h2 id="pw-title">Change password</h2>
          <p class="small muted">Changing it logs you out everywhere, here too.</p>
          <PasswordForm />
        </section>
        <section class="panel" aria-labelledby="tok-title">
          <h2 id="tok-title">Your API tokens</h2>
          <p class="small muted">
            Scripts, CI jobs and Grafana use an API token instead of your password. Give each its own token, so you can revoke one without
            breaking the others.
          </p>
          <TokenManager />
        </section>
      </div>
    </>
  );
}
