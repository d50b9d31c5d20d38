import { ProgressReporter } from '../../lib/commands/progress';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, columns: 60, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WritableStream, chunks };
}

describe('ProgressReporter', () => {
  test('off a terminal: whole lines, at most one per interval, never a carriage return', () => {
    const { stream, chunks } = sink(false);
    let now = 0;
    const p = new ProgressReporter({ stream, interval: 1000, now: () => now });
    p.start('train', 100);
    for (let i = 0; i <= 100; i++) {
      now += 50;
      p.update(i, `epoch ${i}`);
    }
    p.done();
    expect(chunks.join('')).not.toContain('\r');
    for (const c of chunks) expect(c.endsWith('\n')).toBe(true);
    // 5 s of updates at one line per second, plus the final 100% line.
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    expect(chunks.length).toBeLessThanOrEqual(7);
    expect(chunks[chunks.length - 1]).toContain('100% 100/100');
    expect(chunks[1]).toMatch(/ETA 0:0\d/);
  });

  test('on a terminal: one line redrawn in place with a bar and ETA, ended by done()', () => {
    const { stream, chunks } = sink(true);
    let now = 0;
    const p = new ProgressReporter({ stream, now: () => now });
    p.start('recommend', 10);
    for (let i = 1; i <= 10; i++) {
      now += 200;
      p.update(i);
    }
    p.log('finished');
    const text = chunks.join('');
    expect(text.startsWith('\r')).toBe(true);
    expect(text).toContain('[############------------]  50% 5/10 ETA 0:01');
    expect(text.endsWith('\nfinished\n')).toBe(true);
  });

  test('quiet prints nothing', () => {
    const { stream, chunks } = sink(false);
    const p = new ProgressReporter({ stream, quiet: true });
    p.start('x', 3);
    p.update(3);
    p.log('hello');
    p.done();
    expect(chunks).toEqual([]);
  });
});
