// API tokens: the list, creation with the secret shown once, and revocation
// with a confirmation. Used by the account page (own tokens) and by the
// admin page (every user's tokens, with an owner filter).
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api, errorMessage, useApi, useSession } from './api';
import { formatExactTime, rolesUpTo, TOKEN_EXPIRIES } from './format';
import { Empty, ErrorBox, Loading, RelTime, Status, TableHead } from './widgets';

export interface Token {
  id: number;
  name: string;
  role: string;
  user: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Whether a token still works, in words and tone. */
export function tokenState(t: Token, now = Date.now()): { active: boolean; text: string; tone: 'ok' | 'bad' | 'muted' } {
  if (t.revoked_at) return { active: false, text: 'Revoked', tone: 'bad' };
  if (t.expires_at && new Date(t.expires_at).getTime() <= now) return { active: false, text: 'Expired', tone: 'muted' };
  return { active: true, text: 'Active', tone: 'ok' };
}

/** Copies text to the clipboard; falls back to selecting an input. */
async function copyText(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall through */
  }
  if (!input) return false;
  input.focus();
  input.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

function SecretBox(p: { name: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState<'' | 'yes' | 'no'>('');
  let input: HTMLInputElement | null = null;
  return (
    <div class="secret-box" role="alert">
      <p>
        <strong>Token “{p.name}” created. Copy it now: it is shown only this once.</strong> Keep it like a password; whoever has it acts
        with its role. Lost it? Revoke it and create another.
      </p>
      <div class="secret-row">
        <label class="sr-only" for="token-secret">
          The new token
        </label>
        <input
          id="token-secret"
          class="mono"
          readOnly
          value={p.secret}
          ref={(el) => {
            input = el;
          }}
          onFocus={(e) => (e.target as HTMLInputElement).select()}
        />
        <button type="button" class="primary" onClick={async () => setCopied((await copyText(p.secret, input)) ? 'yes' : 'no')}>
          Copy
        </button>
        <button type="button" onClick={p.onDone}>
          Done
        </button>
      </div>
      {copied === 'yes' && <p class="small ok-text">✔ Copied to the clipboard.</p>}
      {copied === 'no' && <p class="small">The browser did not allow copying: select the text and press Ctrl+C (⌘C on a Mac).</p>}
      <p class="small muted">
        Use it as <code>Authorization: Bearer …</code> in requests to the API.
      </p>
    </div>
  );
}

function CreateToken(p: { onCreated: (t: Token, secret: string) => void }) {
  const s = useSession();
  const roles = rolesUpTo(s.role);
  const [name, setName] = useState('');
  const [role, setRole] = useState(roles.includes(s.role) ? s.role : roles[0] ?? '');
  const [expires, setExpires] = useState(TOKEN_EXPIRIES[0].value);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const body: Record<string, string> = { name: name.trim(), role };
      if (expires) body.expires_in = expires;
      const r = await api<{ token: Token; secret: string }>('/api/v1/tokens', { method: 'POST', body });
      setName('');
      p.onCreated(r.token, r.secret);
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="token-form" onSubmit={submit}>
      <h3>New token</h3>
      <div class="form-row">
        <label class="field grow">
          <span>Name</span>
          <input value={name} required maxLength={100} placeholder="What uses it, e.g. grafana or ci-deploy" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>Role</span>
          <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            {roles.map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Expires after</span>
          <select value={expires} onChange={(e) => setExpires((e.target as HTMLSelectElement).value)}>
            {TOKEN_EXPIRIES.map((x) => (
              <option value={x.value}>{x.label}</option>
            ))}
          </select>
        </label>
        <div class="field">
          <span aria-hidden="true">&nbsp;</span>
          <button type="submit" class="primary" disabled={busy || name.trim() === ''}>
            {busy ? 'Creating…' : 'Create token'}
          </button>
        </div>
      </div>
      <p class="small muted">
        A token's role can be yours or lower{s.role === 'admin' ? '' : ` (${roles.join(', ')})`}. If your own role is lowered later, the token
        is limited to it.
      </p>
      {err !== null && (
        <p class="state error" role="alert">
          Could not create the token: {errorMessage(err)}
        </p>
      )}
    </form>
  );
}

/**
 * The token list. all: every user's tokens with an owner filter (admin);
 * otherwise the user's own, with the form to create one.
 */
export function TokenManager(p: { all?: boolean }) {
  const [owner, setOwner] = useState('');
  const [showInactive, setShowInactive] = useState(false);
  const [created, setCreated] = useState<{ token: Token; secret: string } | null>(null);
  const [confirm, setConfirm] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionErr, setActionErr] = useState<{ id: number; err: unknown } | null>(null);
  const list = useApi((signal) => api<{ tokens: Token[] }>('/api/v1/tokens', { query: { user: p.all && owner ? owner : undefined }, signal }), [owner, p.all]);
  const users = useApi(
    (signal) => (p.all ? api<{ users: { name: string }[] }>('/api/v1/users', { signal }) : Promise.resolve({ users: [] })),
    [p.all],
  );

  const revoke = async (t: Token) => {
    setBusy(true);
    setActionErr(null);
    try {
      await api('/api/v1/tokens/' + t.id, { method: 'DELETE' });
      setConfirm(null);
      list.reload();
    } catch (err) {
      setActionErr({ id: t.id, err });
    } finally {
      setBusy(false);
    }
  };

  const tokens = list.data?.tokens ?? [];
  const shown = tokens
    .filter((t) => showInactive || tokenState(t).active)
    .sort((a, b) => Number(tokenState(b).active) - Number(tokenState(a).active) || b.created_at.localeCompare(a.created_at));
  const inactive = tokens.filter((t) => !tokenState(t).active).length;
  const cols = p.all ? 8 : 7;

  return (
    <div class="tokens">
      {!p.all && (
        <CreateToken
          onCreated={(token, secret) => {
            setCreated({ token, secret });
            list.reload();
          }}
        />
      )}
      {created && <SecretBox name={created.token.name} secret={created.secret} onDone={() => setCreated(null)} />}
      <div class="toolbar">
        {p.all && (
          <label class="inline-field">
            Owner{' '}
            <select value={owner} onChange={(e) => setOwner((e.target as HTMLSelectElement).value)}>
              <option value="">All users</option>
              {(users.data?.users ?? []).map((u) => (
                <option value={u.name}>{u.name}</option>
              ))}
            </select>
          </label>
        )}
        <label class="inline-field">
          <input type="checkbox" checked={showInactive} onChange={(e) => setShowInactive((e.target as HTMLInputElement).checked)} /> Show revoked and
          expired tokens{inactive ? ` (${inactive})` : ''}
        </label>
      </div>
      {list.error !== null && <ErrorBox error={list.error} retry={list.reload} what="the tokens" />}
      {list.loading && !list.data && <Loading what="tokens" />}
      {list.data && shown.length === 0 && (
        <Empty>
          {tokens.length === 0
            ? p.all
              ? owner
                ? `${owner} has no API tokens.`
                : 'No user has an API token.'
              : 'You have no API tokens. Create one above for a script, a CI job or Grafana.'
            : 'No active tokens. Tick “Show revoked and expired tokens” to see the others.'}
        </Empty>
      )}
      {shown.length > 0 && (
        <div class="table-wrap">
          <table class="stack">
            <TableHead cols={['Name', p.all && 'Owner', 'Role', 'State', 'Created', 'Expires', 'Last used']} actions />
            <tbody>
              {shown.map((t) => {
                const st = tokenState(t);
                return (
                  <Fragment key={t.id}>
                    <tr>
                      <td data-label="Name">
                        <strong>{t.name}</strong>
                      </td>
                      {p.all && <td data-label="Owner">{t.user}</td>}
                      <td data-label="Role">{t.role}</td>
                      <td data-label="State">
                        <Status tone={st.tone} text={st.text} title={t.revoked_at ? 'Revoked ' + formatExactTime(t.revoked_at) : undefined} />
                      </td>
                      <td data-label="Created">
                        <RelTime t={t.created_at} />
                      </td>
                      <td data-label="Expires">{t.expires_at ? <RelTime t={t.expires_at} /> : <span class="muted">never</span>}</td>
                      <td data-label="Last used">
                        <RelTime t={t.last_used_at} />
                      </td>
                      <td class="actions-cell">
                        {st.active && confirm !== t.id && (
                          <button type="button" class="danger" onClick={() => setConfirm(t.id)} aria-label={`Revoke token ${t.name}`}>
                            Revoke
                          </button>
                        )}
                      </td>
                    </tr>
                    {confirm === t.id && (
                      <tr class="confirm-row">
                        <td colSpan={cols}>
                          <div class="confirm" role="alertdialog" aria-label={`Revoke token ${t.name}?`}>
                            <p>
                              Revoke “{t.name}”{p.all ? ` of ${t.user}` : ''}? Everything using it is refused from now on. This cannot be undone.
                            </p>
                            <button type="button" class="danger-solid" disabled={busy} onClick={() => revoke(t)}>
                              {busy ? 'Revoking…' : 'Revoke token'}
                            </button>{' '}
                            <button type="button" onClick={() => setConfirm(null)}>
                              Cancel
                            </button>
                            {actionErr?.id === t.id && (
                              <p class="error-text" role="alert">
                                {errorMessage(actionErr.err)}
                              </p>
                            )}
                          </div>
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
