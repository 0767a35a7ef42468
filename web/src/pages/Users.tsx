// Users (admin): list, create, change role, reset password, disable or
// enable, delete.
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api, errorMessage, useApi, useSession } from '../api';
import { passwordHint, ROLES } from '../format';
import type { PageProps } from '../routes';
import { Empty, ErrorBox, Loading, PageHead, RelTime, Status, TableHead } from '../widgets';

interface User {
  name: string;
  role: string;
  disabled: boolean;
  created_at: string;
  last_login_at: string | null;
}

const ROLE_TEXT: Record<string, string> = {
  admin: 'everything, including users, all tokens and the audit log',
  sysadmin: 'respond to incidents and operate: silences, incident changes, checks, reloads',
  devops: 'respond to incidents and operate: silences, incident changes, checks, reloads',
  support: 'view everything, acknowledge incidents and add notes',
};

/** A random password of 20 letters and digits, for the create and reset forms. */
function generatePassword(): string {
  const abc = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const b = new Uint32Array(20);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => abc[x % abc.length]).join('');
}

function PasswordInput(p: { id: string; value: string; onInput: (v: string) => void; label: string }) {
  const hint = passwordHint(p.value);
  return (
    <div class="field grow">
      <label for={p.id}>
        <strong>{p.label}</strong>
      </label>
      <div class="pw-row">
        <input
          id={p.id}
          type="text"
          class="mono"
          autocomplete="off"
          spellcheck={false}
          required
          minLength={12}
          aria-describedby={p.id + '-hint'}
          value={p.value}
          onInput={(e) => p.onInput((e.target as HTMLInputElement).value)}
        />
        <button type="button" onClick={() => p.onInput(generatePassword())}>
          Generate
        </button>
      </div>
      <small id={p.id + '-hint'} class={p.value === '' ? 'muted' : hint.ok ? 'ok-text' : 'warn-text'} aria-live="polite">
        {hint.text} Pass it on to the user in a safe way; they can change it on their account page.
      </small>
    </div>
  );
}

function CreateUser(p: { onDone: () => void; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState('support');
  const [pw, setPw] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      await api('/api/v1/users', { method: 'POST', body: { name: name.trim(), role, password: pw } });
      p.onDone();
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel user-form" onSubmit={submit} aria-labelledby="new-user-title">
      <h3 id="new-user-title">New user</h3>
      <div class="form-row">
        <label class="field">
          <span>Name</span>
          <input
            value={name}
            required
            maxLength={64}
            pattern="[A-Za-z0-9._@\-]+"
            title="Letters, digits and . _ - @"
            autocomplete="off"
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </label>
        <label class="field">
          <span>Role</span>
          <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            {ROLES.map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
        </label>
        <PasswordInput id="new-user-pw" label="Initial password" value={pw} onInput={setPw} />
      </div>
      <p class="small muted">
        {role}: {ROLE_TEXT[role]}.
      </p>
      {err !== null && (
        <p class="state error" role="alert">
          Could not create the user: {errorMessage(err)}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy || !name.trim() || !passwordHint(pw).ok}>
        {busy ? 'Creating…' : 'Create user'}
      </button>{' '}
      <button type="button" onClick={p.onCancel}>
        Cancel
      </button>
    </form>
  );
}

type Mode = 'role' | 'password' | 'delete';

function EditRow(p: { user: User; mode: Mode; me: string; cols: number; onDone: (msg: string) => void; onCancel: () => void }) {
  const u = p.user;
  const [role, setRole] = useState(u.role);
  const [pw, setPw] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const self = u.name === p.me;
  const run = async (fn: () => Promise<unknown>, msg: string) => {
    setBusy(true);
    setErr(null);
    try {
      await fn();
      p.onDone(msg);
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  const selfNote = self && p.mode !== 'delete' && <p class="small warn-text">▲ This is your own account: the change ends your session and you log in again.</p>;
  return (
    <tr class="edit-row">
      <td colSpan={p.cols}>
        {p.mode === 'role' && (
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              run(() => api('/api/v1/users/' + encodeURIComponent(u.name), { method: 'PATCH', body: { role } }), `${u.name} is now ${role}.`);
            }}
          >
            <label class="inline-field">
              New role for {u.name}
              <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
                {ROLES.map((r) => (
                  <option value={r}>{r}</option>
                ))}
              </select>
            </label>{' '}
            <button type="submit" class="primary" disabled={busy || role === u.role}>
              Save role
            </button>{' '}
            <button type="button" onClick={p.onCancel}>
              Cancel
            </button>
            <p class="small muted">
              {role}: {ROLE_TEXT[role]}. Their API tokens are limited to the new role.
            </p>
            {selfNote}
          </form>
        )}
        {p.mode === 'password' && (
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              run(
                () => api('/api/v1/users/' + encodeURIComponent(u.name), { method: 'PATCH', body: { password: pw } }),
                `The password of ${u.name} was reset; their sessions have ended.`,
              );
            }}
          >
            <div class="form-row">
              <PasswordInput id={'pw-' + u.name} label={`New password for ${u.name}`} value={pw} onInput={setPw} />
            </div>
            <button type="submit" class="primary" disabled={busy || !passwordHint(pw).ok}>
              Reset password
            </button>{' '}
            <button type="button" onClick={p.onCancel}>
              Cancel
            </button>
            {selfNote}
          </form>
        )}
        {p.mode === 'delete' && (
          <div class="confirm" role="alertdialog" aria-label={`Delete ${u.name}?`}>
            <p>
              Delete <strong>{u.name}</strong> with their sessions and API tokens? This cannot be undone; disabling keeps the account for later.
            </p>
            <button
              type="button"
              class="danger-solid"
              disabled={busy}
              onClick={() => run(() => api('/api/v1/users/' + encodeURIComponent(u.name), { method: 'DELETE' }), `${u.name} was deleted.`)}
            >
              {busy ? 'Deleting…' : 'Delete user'}
            </button>{' '}
            <button type="button" onClick={p.onCancel}>
              Cancel
            </button>
          </div>
        )}
        {err !== null && (
          <p class="state error" role="alert">
            {p.mode === 'delete' ? `${u.name} was not deleted: ` : 'Nothing was changed: '}
            {errorMessage(err)}
          </p>
        )}
      </td>
    </tr>
  );
}

export default function Users(_p: PageProps) {
  const s = useSession();
  const list = useApi((signal) => api<{ users: User[] }>('/api/v1/users', { signal }), []);
  const [creating, setCreating] = useState(false);
  const [edit, setEdit] = useState<{ name: string; mode: Mode } | null>(null);
  const [notice, setNotice] = useState('');
  const [rowErr, setRowErr] = useState<{ name: string; err: unknown } | null>(null);
  const [busy, setBusy] = useState('');
  const users = (list.data?.users ?? []).slice().sort((a, b) => a.name.localeCompare(b.name));
  const cols = 6;

  const toggle = async (u: User) => {
    setBusy(u.name);
    setRowErr(null);
    setNotice('');
    try {
      await api('/api/v1/users/' + encodeURIComponent(u.name), { method: 'PATCH', body: { disabled: !u.disabled } });
      setNotice(u.disabled ? `${u.name} can log in again.` : `${u.name} is disabled: they cannot log in and their API tokens are refused.`);
      list.reload();
    } catch (err) {
      setRowErr({ name: u.name, err });
    } finally {
      setBusy('');
    }
  };
  const open = (name: string, mode: Mode) => {
    setRowErr(null);
    setNotice('');
    setEdit(edit && edit.name === name && edit.mode === mode ? null : { name, mode });
  };

  return (
    <>
      <PageHead title="Users" sub="Who can log in, and with which role.">
        {!creating && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            + Add user
          </button>
        )}
      </PageHead>
      {creating && (
        <CreateUser
          onCancel={() => setCreating(false)}
          onDone={() => {
            setCreating(false);
            setNotice('User created.');
            list.reload();
          }}
        />
      )}
      {notice && (
        <p class="state ok-box" role="status">
          ✔ {notice}
        </p>
      )}
      {list.error !== null && <ErrorBox error={list.error} retry={list.reload} what="the users" />}
      {list.loading && !list.data && <Loading what="users" />}
      {list.data && users.length === 0 && <Empty>No users yet.</Empty>}
      {users.length > 0 && (
        <div class="table-wrap">
          <table class="stack users">
            <TableHead cols={['Name', 'Role', 'Status', 'Created', 'Last login']} actions />
            <tbody>
              {users.map((u) => {
                const self = u.name === s.user;
                return (
                  <Fragment key={u.name}>
                    <tr class={u.disabled ? 'disabled-row' : ''}>
                      <td data-label="Name">
                        <strong>{u.name}</strong>
                        {self && <span class="badge">you</span>}
                      </td>
                      <td data-label="Role">{u.role}</td>
                      <td data-label="Status">{u.disabled ? <Status tone="muted" text="Disabled" /> : <Status tone="ok" text="Active" />}</td>
                      <td data-label="Created">
                        <RelTime t={u.created_at} />
                      </td>
                      <td data-label="Last login">
                        <RelTime t={u.last_login_at} />
                      </td>
                      <td class="actions-cell">
                        <button type="button" onClick={() => open(u.name, 'role')} aria-expanded={edit?.name === u.name && edit.mode === 'role'}>
                          Role
                        </button>
                        <button type="button" onClick={() => open(u.name, 'password')} aria-expanded={edit?.name === u.name && edit.mode === 'password'}>
                          Reset password
                        </button>
                        <button type="button" disabled={busy === u.name} onClick={() => toggle(u)}>
                          {u.disabled ? 'Enable' : 'Disable'}
                        </button>
                        <button type="button" class="danger" onClick={() => open(u.name, 'delete')} aria-expanded={edit?.name === u.name && edit.mode === 'delete'}>
                          Delete
                        </button>
                        {rowErr?.name === u.name && (
                          <p class="error-text" role="alert">
                            {errorMessage(rowErr.err)}
                          </p>
                        )}
                      </td>
                    </tr>
                    {edit?.name === u.name && (
                      <EditRow
                        key={edit.mode}
                        user={u}
                        mode={edit.mode}
                        me={s.user}
                        cols={cols}
                        onCancel={() => setEdit(null)}
                        onDone={(msg) => {
                          setEdit(null);
                          setNotice(msg);
                          list.reload();
                        }}
                      />
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <p class="small muted">
        Roles: <strong>admin</strong> may do everything; <strong>sysadmin</strong> and <strong>devops</strong> respond to incidents and operate
        (silences, incident changes, checks, reloads); <strong>support</strong> views everything, acknowledges incidents and adds notes.
      </p>
    </>
  );
}
