// Every SPA route: one line each. Pages get the path parameters as props.params.
import type { ComponentType } from 'preact';
import type { Permission } from './api';
import Account from './pages/Account';
import AdminTokens from './pages/AdminTokens';
import Alerts from './pages/Alerts';
import Audit from './pages/Audit';
import CheckDetail from './pages/CheckDetail';
import Checks from './pages/Checks';
import Explore from './pages/Explore';
import HomeDevops from './pages/HomeDevops';
import HomeSupport from './pages/HomeSupport';
import HomeSysadmin from './pages/HomeSysadmin';
import Host from './pages/Host';
import IncidentDetail from './pages/IncidentDetail';
import Incidents from './pages/Incidents';
import Login from './pages/Login';
import Logs from './pages/Logs';
import Overview from './pages/Overview';
import Users from './pages/Users';

export interface PageProps {
  params: Record<string, string>;
}

export interface Route {
  /** A path pattern; ":name" is a parameter. */
  path: string;
  page: ComponentType<PageProps>;
  /** The document title (pages may set a more precise one). */
  title: string;
  /** The permission the page needs (all pages need view). */
  perm?: Permission;
  /** Where the page appears in the navigation: main bar, admin group, homes, none. */
  nav?: 'main' | 'admin' | 'home';
  /** For homes: the role it is made for. */
  role?: string;
  /** false: no navigation and no login needed (the login page). */
  chrome?: boolean;
}

export const routes: Route[] = [
  { path: '/', page: Overview, title: 'Overview', nav: 'main' },
  { path: '/login', page: Login, title: 'Log in', chrome: false },
  { path: '/account', page: Account, title: 'Account' },
  { path: '/hosts/:instance', page: Host, title: 'Host' },
  { path: '/checks', page: Checks, title: 'Checks', nav: 'main' },
  { path: '/checks/:name', page: CheckDetail, title: 'Check' },
  { path: '/alerts', page: Alerts, title: 'Alerts', nav: 'main' },
  { path: '/incidents', page: Incidents, title: 'Incidents', nav: 'main' },
  { path: '/incidents/:id', page: IncidentDetail, title: 'Incident' },
  { path: '/logs', page: Logs, title: 'Logs', nav: 'main' },
  { path: '/explore', page: Explore, title: 'Explore', nav: 'main' },
  { path: '/home/sysadmin', page: HomeSysadmin, title: 'Sysadmin home', nav: 'home', role: 'sysadmin' },
  { path: '/home/devops', page: HomeDevops, title: 'DevOps home', nav: 'home', role: 'devops' },
  { path: '/home/support', page: HomeSupport, title: 'Support home', nav: 'home', role: 'support' },
  { path: '/admin/users', page: Users, title: 'Users', perm: 'admin', nav: 'admin' },
  { path: '/admin/tokens', page: AdminTokens, title: 'API tokens', perm: 'admin', nav: 'admin' },
  { path: '/admin/audit', page: Audit, title: 'Audit log', perm: 'admin', nav: 'admin' },
];
