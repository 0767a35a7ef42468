import { describe, expect, it } from 'vitest';
import { alignSeries, axisTime, seriesName, stack, withRateWindow } from './chart';

describe('chart helpers', () => {
  it('names series by template, function or labels', () => {
    const m = { __name__: 'x', job: 'node', instance: 'a', device: 'sda', mode: 'user' };
    expect(seriesName(m, '{{device}} read')).toBe('sda read');
    expect(seriesName(m, (l) => l.mode.toUpperCase())).toBe('USER');
    expect(seriesName(m)).toBe('device=sda, mode=user');
    expect(seriesName({ __name__: 'up', instance: 'a' })).toBe('up');
  });
  it('aligns series on one time axis with gaps as null', () => {
    const b = alignSeries(
      [{ series: [{ metric: { a: '1' }, values: [[100, '1'], [130, '3']] }, { metric: { a: '2' }, values: [[115, 'NaN']] }] }],
      100,
      130,
      15,
      1,
    );
    expect(b.data[0]).toEqual([100, 115, 130]);
    expect(b.raw).toEqual([[1, null, 3]]);
    expect(b.dropped).toBe(1);
  });
  it('stacks cumulatively with bands between neighbours', () => {
    const s = stack([
      [1, 2, null],
      [3, 4, 5],
    ]);
    expect(s.data).toEqual([
      [1, 2, null],
      [4, 6, 5],
    ]);
    expect(s.bands).toEqual([{ series: [2, 1] }]);
  });
  it('fits the rate window to the step', () => {
    expect(withRateWindow('rate(x[$__rate]) + rate(y[$__rate])', 15)).toBe('rate(x[1m]) + rate(y[1m])');
    expect(withRateWindow('rate(x[$__rate])', 300)).toBe('rate(x[10m])');
  });
  it('labels the time axis in 24-hour time, with dates over days', () => {
    const t = new Date(2026, 4, 1, 14, 5).getTime() / 1000;
    expect(axisTime(t, 3600)).toBe('14:05');
    expect(axisTime(t, 7 * 86400)).toBe('May 1 14:05');
    expect(axisTime(new Date(2026, 4, 2).getTime() / 1000, 86400)).toBe('May 2');
  });
});
