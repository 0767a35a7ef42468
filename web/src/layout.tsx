// The frame of every page but the login: top navigation with the pages the
// role may use, the user and role, logout; a menu button on narrow screens.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { can, homeOf, logout, useSession } from './api';
import { useLocation } from './router';
import { routes, type Route } from './routes';

function isActive(r: Route, path: string) {
  if (r.path === '/') return path === '/' || path.startsWith('/hosts/');
  return path === r.path || path.startsWith(r.path + '/');
}

/** A group of links: a drop-down on wide screens, a section of the menu on phones. */
function Group(p: { label: string; items: ComponentChildren[]; path: string }) {
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [p.path]);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('click', close);
    return () => document.removeEventListener('click', close);
  }, [open]);
  return (
    <div class={'nav-group' + (open ? ' open' : '')} ref={ref}>
      <button type="button" class="nav-dd" aria-expanded={open} onClick={() => setOpen(!open)}>
        {p.label} <span aria-hidden="true">▾</span>
      </button>
      <ul aria-label={p.label}>{p.items}</ul>
    </div>
  );
}

export function Layout(p: { children: ComponentChildren }) {
  const s = useSession();
  const loc = useLocation();
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [loc.path]);
  const allowed = (r: Route) => !r.perm || can(r.perm);
  const main = routes.filter((r) => r.nav === 'main' && allowed(r));
  // A role sees its own home; an admin sees all of them.
  const homes = routes.filter((r) => r.nav === 'home' && (s.role === 'admin' || r.role === s.role));
  const admin = routes.filter((r) => r.nav === 'admin' && allowed(r));
  const link = (r: Route, text = r.title) => (
    <li>
      <a href={r.path} class={isActive(r, loc.path) ? 'active' : ''} aria-current={isActive(r, loc.path) ? 'page' : undefined}>
        {text}
      </a>
    </li>
  );
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={homeOf(s.role)}>
          <span class="logo" aria-hidden="true">
            ◉
          </span>{' '}
          SayPro Monitor
        </a>
        <button type="button" class="menu-btn" aria-expanded={open} aria-controls="nav" onClick={() => setOpen(!open)}>
          {open ? '✕ Close' : '☰ Menu'}
        </button>
        <nav id="nav" class={open ? 'open' : ''} aria-label="Main">
          <ul class="nav-main">
            {main.map((r) => link(r))}
            {homes.length === 1 && link(homes[0], 'My home')}
          </ul>
          {homes.length > 1 && <Group label="Homes" items={homes.map((r) => link(r, r.title.replace(/ home$/, '')))} path={loc.path} />}
          {admin.length > 0 && <Group label="Admin" items={admin.map((r) => link(r))} path={loc.path} />}
          <div class="user">
            <a href="/account" class={loc.path === '/account' ? 'active' : ''} title="Your account: password and API tokens">
              {s.user || '…'}
            </a>{' '}
            <span class="role" title="Your role">
              {s.role}
            </span>
            <button type="button" class="link" onClick={() => logout()}>
              Log out
            </button>
          </div>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {p.children}
      </main>
    </div>
  );
}
