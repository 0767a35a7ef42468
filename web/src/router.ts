// Client-side routing with the History API: one location store, navigate(),
// a hook to read the location, and path patterns with :params.
import { useEffect, useState } from 'preact/hooks';

export interface Location {
  path: string;
  /** The query string without "?", e.g. "range=1h". */
  search: string;
  query: URLSearchParams;
}

type Listener = (loc: Location) => void;
const listeners = new Set<Listener>();

function read(): Location {
  const search = window.location.search.replace(/^\?/, '');
  return { path: window.location.pathname, search, query: new URLSearchParams(search) };
}

let current: Location = typeof window === 'undefined' ? { path: '/', search: '', query: new URLSearchParams() } : read();

function emit() {
  current = read();
  for (const l of listeners) l(current);
}

/** The location now (outside components). */
export function location(): Location {
  return current;
}

/**
 * Go to path (which may carry a query string). replace: true replaces the
 * history entry instead of adding one (for query changes such as filters).
 */
export function navigate(path: string, opts: { replace?: boolean } = {}) {
  const url = new URL(path, window.location.href);
  const next = url.pathname + url.search + url.hash;
  const now = window.location.pathname + window.location.search + window.location.hash;
  if (next === now) return;
  if (opts.replace) window.history.replaceState(null, '', next);
  else window.history.pushState(null, '', next);
  if (url.pathname !== current.path) window.scrollTo(0, 0);
  emit();
}

/** Changes some query parameters of the current URL; null or '' removes one. */
export function setQuery(params: Record<string, string | null | undefined>, opts: { replace?: boolean } = { replace: true }) {
  const q = new URLSearchParams(window.location.search);
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  navigate(window.location.pathname + (s ? '?' + s : ''), opts);
}

/** Calls fn on every change of the location; returns the unsubscribe function. */
export function onLocation(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The current location; the component re-renders when it changes. */
export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    setLoc(current);
    return onLocation(setLoc);
  }, []);
  return loc;
}

/** Matches "/hosts/:instance" against a path; returns the decoded params or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const pp = pattern.split('/').filter(Boolean);
  const ps = path.split('/').filter(Boolean);
  if (pp.length !== ps.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pp.length; i++) {
    if (pp[i].startsWith(':')) {
      try {
        params[pp[i].slice(1)] = decodeURIComponent(ps[i]);
      } catch {
        return null;
      }
    } else if (pp[i] !== ps[i]) {
      return null;
    }
  }
  return params;
}

/** Whether a click on an <a> should be handled by the router instead of the browser. */
function shouldIntercept(e: MouseEvent, a: HTMLAnchorElement): boolean {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return false;
  if (a.target && a.target !== '_self') return false;
  if (a.hasAttribute('download') || a.getAttribute('rel') === 'external') return false;
  const href = a.getAttribute('href');
  if (!href || href.startsWith('#')) return false;
  const url = new URL(a.href, window.location.href);
  if (url.origin !== window.location.origin) return false;
  // Server endpoints are real pages or files, not SPA routes.
  if (/^\/(api|assets|metrics|-)(\/|$)/.test(url.pathname)) return false;
  return true;
}

/** Starts the router: intercepts same-origin link clicks and back/forward. */
export function startRouter() {
  window.addEventListener('popstate', emit);
  document.addEventListener('click', (e) => {
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || !(a instanceof HTMLAnchorElement)) return;
    if (!shouldIntercept(e, a)) return;
    e.preventDefault();
    navigate(a.href);
  });
}
