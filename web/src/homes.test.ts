import { describe, expect, it } from 'vitest';
import { checkSentence, checkWords, headline, incidentTitle, plainAlertName, serviceName, severityWords, type SupportCheck } from './pages/HomeSupport';
import { httpStatus } from './pages/HomeDevops';
import { fillQuery } from './pages/HomeSysadmin';

const now = new Date(2026, 10, 22, 10, 54, 0).getTime();
const at = (h: number, m: number) => new Date(2026, 10, 22, h, m, 0).toISOString();
const check = (state: string, since: string, description?: string): SupportCheck => ({ name: 'shop', description, state, locations: [{ location: 'server', state, since }] });

describe('support wording', () => {
  it('says what is down and since when, by its description', () => {
    expect(checkSentence(check('down', at(10, 42), 'the shop website'), now)).toEqual({ text: 'The shop website is down since 10:42 (12 min)', tone: 'bad' });
    expect(checkSentence(check('degraded', at(10, 50)), now)?.text).toBe('Shop is slow or partly working since 10:50 (4 min)');
    expect(checkSentence(check('up', at(9, 0)), now)).toBeNull();
  });
  it('takes the earliest location in the state', () => {
    const c: SupportCheck = { name: 'api', state: 'down', locations: [
      { location: 'b', state: 'down', since: at(10, 50) },
      { location: 'a', state: 'down', since: at(10, 30) },
      { location: 'c', state: 'up', since: at(9, 0) },
    ] };
    expect(checkSentence(c, now)?.text).toBe('Api is down since 10:30 (24 min)');
  });
  it('falls back to the name when the description is long', () => {
    expect(serviceName({ name: 'shop', description: 'x'.repeat(80) })).toBe('Shop');
  });
  it('has a headline for every case', () => {
    expect(headline([check('up', at(9, 0))], [])).toEqual({ text: 'All systems working', tone: 'ok' });
    expect(headline([check('down', at(9, 0)), check('down', at(9, 0))], []).text).toBe('2 services are down');
    expect(headline([check('degraded', at(9, 0))], []).text).toBe('A service has problems');
    expect(headline([check('up', at(9, 0))], [{ id: 1, title: 't', status: 'open', severity: 'warning', opened_at: at(9, 0) }]).tone).toBe('warn');
  });
  it('words states and severities without jargon', () => {
    expect(checkWords('up').text).toBe('Working');
    expect(checkWords('pending').text).toBe('Not checked yet');
    expect(severityWords('critical').text).toBe('Urgent');
    expect(severityWords('whatever').text).toBe('Important');
  });
  it('turns alert names into words', () => {
    expect(plainAlertName('HostHighCPU')).toBe('Host high CPU');
    expect(plainAlertName('CheckDown')).toBe('Check down');
    expect(plainAlertName('HostDiskWillFillIn24h')).toBe('Host disk will fill in 24h');
  });
  it('titles incidents by summary, else by name and place, never with label syntax', () => {
    const base = { id: 1, status: 'open', severity: 'critical', opened_at: at(10, 0) };
    expect(incidentTitle({ ...base, title: 'CheckDown (check=shop)', alerts: [{ state: 'firing', labels: {}, annotations: { summary: 'check shop is down' } }] })).toBe('Check shop is down');
    expect(incidentTitle({ ...base, title: 'HostHighCPU (instance=web-1, job=node)', host: 'web-1', group_labels: { alertname: 'HostHighCPU', instance: 'web-1' } })).toBe('Host high CPU on web-1');
    expect(incidentTitle({ ...base, title: 'HostDown (instance=db-1)', host: 'db-1' })).toBe('Host down on db-1');
  });
});

describe('devops and sysadmin helpers', () => {
  it('words HTTP status codes', () => {
    expect(httpStatus(200)).toEqual({ text: '200 OK', tone: 'ok' });
    expect(httpStatus(404)).toEqual({ text: '404 Not Found', tone: 'warn' });
    expect(httpStatus(503).tone).toBe('bad');
    expect(httpStatus(0).text).toBe('no answer');
    expect(httpStatus(299).text).toBe('299');
  });
  it('predicts filling with predict_linear over the chosen window, one query for all hosts', () => {
    const q = fillQuery('1d', 5);
    expect(q).toContain('predict_linear(node_filesystem_avail_bytes{');
    expect(q).toContain('[1d], 86400)');
    expect(q.startsWith('bottomk(5, ')).toBe(true);
    expect(q).not.toContain('instance="');
  });
});
