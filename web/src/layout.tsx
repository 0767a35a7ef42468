// The frame of every page but the login: top navigation with the pages the
// role may use, the user and role, logout; a menu button on narrow screens.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { can, homeOf, logout, useSession } from './api';
import { useLocation } from './router';
import { routes, type Route } from './routes';

function isActive(r: Route, path: string) {
  if (r.path === '/') return path === '/' || path.startsWith('/hosts/');
  return path === r.path || path.startsWith(r.path + '/');
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
          {homes.length > 1 && (
            <ul class="nav-group" aria-label="Homes">
              <li class="nav-label">Homes</li>
              {homes.map((r) => link(r, r.title.replace(/ home$/, '')))}
            </ul>
          )}
          {admin.length > 0 && (
            <ul class="nav-group" aria-label="Administration">
              <li class="nav-label">Admin</li>
              {admin.map((r) => link(r))}
            </ul>
          )}
          <div class="user">
            <a href="/account" class={loc.path === '/account' ? 'active' : ''} title="Your account: password and API tokens">
              <span aria-hidden="true">👤</span> {s.user || '…'}
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
