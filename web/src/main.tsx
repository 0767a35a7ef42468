// Entry point: starts the router, loads the session and renders the page of
// the current path inside the layout.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, loadSession, redirectToLogin, useSession } from './api';
import { Layout } from './layout';
import { matchPath, startRouter, useLocation } from './router';
import { routes } from './routes';
import './style.css';
import { Loading, PageHead } from './widgets';

export { navigate, setQuery, useLocation } from './router';

function findRoute(path: string) {
  for (const r of routes) {
    const params = matchPath(r.path, path);
    if (params) return { route: r, params };
  }
  return null;
}

function NotFound() {
  return (
    <>
      <PageHead title="Page not found" />
      <p>
        There is no page at this address. Go to the <a href="/">overview</a>.
      </p>
    </>
  );
}

function App() {
  const loc = useLocation();
  const s = useSession();
  const [err, setErr] = useState<unknown>(null);
  const m = findRoute(loc.path);
  const bare = m?.route.chrome === false;

  useEffect(() => {
    if (s.state !== 'loading') return;
    loadSession().catch(setErr);
  }, [s.state, err]);
  useEffect(() => {
    if (m?.route) document.title = m.route.title + ' · SayPro Monitor';
    else document.title = 'SayPro Monitor';
  }, [loc.path]);
  useEffect(() => {
    if (!bare && s.state === 'anonymous') redirectToLogin();
  }, [bare, s.state]);

  if (bare && m) return <m.route.page params={m.params} />;
  if (err && s.state === 'loading')
    return (
      <div class="boot state error" role="alert">
        <p>SayPro Monitor could not ask the server who you are: {errorMessage(err)}</p>
        <button type="button" onClick={() => setErr(null)}>
          Try again
        </button>
      </div>
    );
  if (s.state !== 'ready') return <Loading />;
  let body;
  if (!m) body = <NotFound />;
  else if (m.route.perm && !s.permissions.includes(m.route.perm))
    body = (
      <>
        <PageHead title={m.route.title} />
        <p class="state error" role="alert">
          Your role ({s.role}) may not see this page.
        </p>
      </>
    );
  else body = <m.route.page key={m.route.path} params={m.params} />;
  return <Layout>{body}</Layout>;
}

startRouter();
render(<App />, document.getElementById('app')!);
