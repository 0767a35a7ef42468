// Formatting of numbers, units and times for people. Pure functions, unit-tested.

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

function trim(n: number, digits: number): string {
  // 3 significant digits at most, no trailing zeros: 1.5, 12.3, 512.
  const abs = Math.abs(n);
  const d = abs >= 100 ? 0 : abs >= 10 ? Math.min(1, digits) : digits;
  return n.toFixed(d).replace(/\.0+$|(\.\d*[1-9])0+$/, '$1');
}

/** 1536 → "1.5 KiB". Not finite → "–". */
export function formatBytes(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1024 && i < IEC.length - 1) {
    v /= 1024;
    i++;
  }
  return (n < 0 ? '-' : '') + trim(v, i === 0 ? 0 : digits) + ' ' + IEC[i];
}

/** Bytes per second: 2048 → "2 KiB/s". */
export function formatBytesRate(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return formatBytes(n, digits) + '/s';
}

/** A percentage given as 0..100: 12.345 → "12.3 %". */
export function formatPercent(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (n !== 0 && Math.abs(n) < 0.1 && digits < 2) return (n < 0 ? '>-' : '<') + '0.1 %';
  return trim(n, digits) + ' %';
}

/** A percentage with as many digits as an availability needs: 99.95 → "99.95 %". */
export function formatUptime(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (n >= 100) return '100 %';
  // Never round 99.999 up to 100: show the digits that matter.
  const d = n >= 99.99 ? 3 : 2;
  const f = Math.floor(n * 10 ** d) / 10 ** d;
  return f.toFixed(d) + ' %';
}

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

/** A plain number, shortened: 1234567 → "1.23M", 0.5 → "0.5". */
export function formatNumber(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  if (i === 0 && v !== 0 && v < 0.01) return n.toExponential(1);
  return (n < 0 ? '-' : '') + trim(v, digits) + SI[i];
}

/** Seconds as a duration: 0.35 → "350 ms", 125 → "2 min 5 s", 90000 → "1 d 1 h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const neg = seconds < 0;
  let s = Math.abs(seconds);
  let out: string;
  if (s < 1) {
    out = s === 0 ? '0 s' : s < 0.001 ? trim(s * 1e6, 0) + ' µs' : trim(s * 1000, 0) + ' ms';
  } else if (s < 60) {
    out = trim(s, s < 10 ? 1 : 0) + ' s';
  } else {
    s = Math.round(s);
    const units: [string, number][] = [
      ['d', 86400],
      ['h', 3600],
      ['min', 60],
      ['s', 1],
    ];
    // The largest unit and the next one only: "1 d 1 h", never "1 d 5 s".
    const i = units.findIndex(([, size]) => s >= size);
    const [n1, s1] = units[i];
    out = Math.floor(s / s1) + ' ' + n1;
    if (i + 1 < units.length) {
      const [n2, s2] = units[i + 1];
      const r = Math.floor((s % s1) / s2);
      if (r > 0) out += ' ' + r + ' ' + n2;
    }
  }
  return neg ? '-' + out : out;
}

function toDate(t: Date | number | string): Date {
  if (t instanceof Date) return t;
  if (typeof t === 'number') return new Date(t < 1e11 ? t * 1000 : t); // seconds or milliseconds
  return new Date(t);
}

/** "just now", "3 min ago", "2 h ago", "in 5 min"; now defaults to the clock. */
export function timeAgo(t: Date | number | string | null | undefined, now: Date | number = Date.now()): string {
  if (t === null || t === undefined || t === '') return 'never';
  const d = toDate(t);
  if (Number.isNaN(d.getTime()) || d.getTime() <= 0) return 'never';
  const diff = ((typeof now === 'number' ? now : now.getTime()) - d.getTime()) / 1000;
  const a = Math.abs(diff);
  if (a < 10) return 'just now';
  let v: string;
  if (a < 60) v = Math.floor(a) + ' s';
  else if (a < 3600) v = Math.floor(a / 60) + ' min';
  else if (a < 86400) v = Math.floor(a / 3600) + ' h';
  else if (a < 86400 * 60) v = Math.floor(a / 86400) + ' d';
  else if (a < 86400 * 730) v = Math.floor(a / (86400 * 30)) + ' months';
  else v = Math.floor(a / (86400 * 365)) + ' years';
  if (v.startsWith('1 ') && (v.endsWith('months') || v.endsWith('years'))) v = v.slice(0, -1);
  return diff >= 0 ? v + ' ago' : 'in ' + v;
}

function pad(n: number, w = 2) {
  return String(n).padStart(w, '0');
}

/** The UTC offset of d in local time: "UTC+02:00", "UTC". */
export function utcOffset(d: Date): string {
  const m = -d.getTimezoneOffset();
  if (m === 0) return 'UTC';
  const a = Math.abs(m);
  return 'UTC' + (m > 0 ? '+' : '-') + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
}

/** The exact local time, for tooltips: "2026-05-01 14:03:07 UTC+02:00". */
export function formatExactTime(t: Date | number | string | null | undefined): string {
  if (t === null || t === undefined || t === '') return '';
  const d = toDate(t);
  if (Number.isNaN(d.getTime())) return '';
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${utcOffset(d)}`
  );
}

/** A short local time for axes and lists: "14:03" today, "May 1 14:03" otherwise. */
export function formatShortTime(t: Date | number | string, now: Date | number = Date.now()): string {
  const d = toDate(t);
  const n = typeof now === 'number' ? new Date(now) : now;
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate()) return hm;
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  return `${mon} ${d.getDate()} ${hm}`;
}

/** "15m", "1h", "7d", "30s", "1w" → seconds; NaN when not a duration. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$/.exec(s.trim());
  if (!m) return NaN;
  const mult: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  return parseFloat(m[1]) * mult[m[2]];
}

/** Seconds → the shortest Prometheus duration: 3600 → "1h", 90 → "90s". */
export function promDuration(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  if (s % 86400 === 0) return s / 86400 + 'd';
  if (s % 3600 === 0) return s / 3600 + 'h';
  if (s % 60 === 0) return s / 60 + 'm';
  return s + 's';
}

/** The units a chart or value can have. */
export type Unit = 'bytes' | 'bytes/s' | 'percent' | 'seconds' | 'number' | 'ops/s';

/** Formats a value in a unit. */
export function formatValue(v: number | null | undefined, unit: Unit = 'number'): string {
  switch (unit) {
    case 'bytes':
      return formatBytes(v);
    case 'bytes/s':
      return formatBytesRate(v);
    case 'percent':
      return formatPercent(v);
    case 'seconds':
      return formatDuration(v);
    case 'ops/s':
      return v === null || v === undefined || !Number.isFinite(v) ? '–' : formatNumber(v) + '/s';
    default:
      return formatNumber(v);
  }
}

/** A Prometheus label set as text: {a="b", c="d"}. */
export function formatLabels(labels: Record<string, string>, skipName = true): string {
  const name = labels.__name__;
  const inner = Object.keys(labels)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(', ');
  return (skipName || !name ? '' : name) + (inner || !name || skipName ? `{${inner}}` : '');
}

// ---- Account, Users, tokens, homes (Account, Users, AdminTokens, Audit, HomeSysadmin, HomeDevops, HomeSupport)

/** The roles, most powerful first. */
export const ROLES = ['admin', 'sysadmin', 'devops', 'support'] as const;

/** admin 3, sysadmin and devops 2 (neither above the other), support 1, anything else 0. */
export function roleRank(role: string): number {
  switch (role) {
    case 'admin':
      return 3;
    case 'sysadmin':
    case 'devops':
      return 2;
    case 'support':
      return 1;
    default:
      return 0;
  }
}

/** The roles a user of `role` may give a token: its own and those below it; admin any. */
export function rolesUpTo(role: string): string[] {
  if (role === 'admin') return [...ROLES];
  const r = roleRank(role);
  return ROLES.filter((x) => x === role || roleRank(x) < r);
}

/** Token lifetimes offered, as the API's expires_in ('' = never expires). */
export const TOKEN_EXPIRIES: { label: string; value: string }[] = [
  { label: '30 days', value: '720h' },
  { label: '90 days', value: '2160h' },
  { label: '1 year', value: '8760h' },
  { label: 'Never', value: '' },
];

/** Days until a filesystem is full → "full in 3 days", "full in 5 h", "full now". */
export function formatFullIn(days: number | null | undefined): string {
  if (days === null || days === undefined || Number.isNaN(days)) return '–';
  if (days === Infinity) return 'not filling up';
  if (days <= 0) return 'full now';
  const hours = days * 24;
  if (hours < 1) return 'full within the hour';
  if (hours < 48) {
    const h = Math.floor(hours);
    return `full in ${h} h`;
  }
  const d = Math.floor(days);
  if (d >= 730) return `full in ${Math.floor(d / 365)} years`;
  if (d >= 365) return 'full in 1 year';
  return `full in ${d} days`;
}

/** "since 10:42 (12 min)" today, "since Nov 20 10:42 (1 d 3 h)" before. */
export function formatSince(t: Date | number | string, now: Date | number = Date.now()): string {
  const d = toDate(t);
  const n = typeof now === 'number' ? now : now.getTime();
  const secs = Math.max(0, (n - d.getTime()) / 1000);
  const span = secs < 60 ? 'under a minute' : secs < 3600 ? Math.floor(secs / 60) + ' min' : formatDuration(Math.floor(secs / 60) * 60);
  return `since ${formatShortTime(d, n)} (${span})`;
}

/** A password hint: how many more characters are needed, or that it is long enough. */
export function passwordHint(pw: string, min = 12): { ok: boolean; text: string } {
  const n = [...pw].length;
  if (n === 0) return { ok: false, text: `At least ${min} characters; a few unrelated words make a good password.` };
  if (pw.trim() === '') return { ok: false, text: 'The password is only spaces.' };
  if (n < min) {
    const k = min - n;
    return { ok: false, text: `${k} more character${k === 1 ? '' : 's'} needed (at least ${min}).` };
  }
  return { ok: true, text: n >= 20 ? 'Long enough: good.' : `Long enough (${n} characters); longer is stronger.` };
}
