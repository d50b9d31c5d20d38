// Runs one loader on one file in a child process (fixtures/load-one.js) and returns its report. A
// watchdog reads the child's RSS every 20 ms and kills it past a ceiling, and a timer kills it
// past a deadline: a loader that regresses fails its test without taking the shared machine down.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ChildReport {
  ok: boolean;
  /** A summary of the result, when ok. */
  result?: string;
  name?: string;
  code?: string;
  limit?: string;
  message?: string;
  ms: number;
  /** Peak RSS during the call minus RSS before it. */
  extraBytes: number;
  /** Whether the peak could be reset before the call (else extraBytes is an upper bound). */
  reset: boolean;
  /** Set when the watchdog or the deadline ended the child. */
  killed?: string;
}

export interface ChildSpec {
  loader: string;
  file: string;
  options?: Record<string, unknown>;
}

const child = path.join(__dirname, 'fixtures', 'load-one.js');
/** The built package the children load; RECBRIDGE_HOSTILE_DIST points at another build (a baseline). */
export const dist = process.env.RECBRIDGE_HOSTILE_DIST ?? path.resolve(__dirname, '../../dist');

function rss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function runChild(spec: ChildSpec, ceilingBytes: number, deadlineMs: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', child, dist, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let killed: string | undefined;
    let peak = 0;
    const kill = (why: string) => {
      if (killed) return;
      killed = why;
      p.kill('SIGKILL');
    };
    const watch = setInterval(() => {
      const now = rss(p.pid!);
      peak = Math.max(peak, now);
      if (now > ceilingBytes) kill(`RSS ${Math.round(now / 2 ** 20)} MB passed the ${Math.round(ceilingBytes / 2 ** 20)} MB ceiling`);
    }, 20);
    const deadline = setTimeout(() => kill(`still running after ${deadlineMs} ms`), deadlineMs);
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', () => {
      clearInterval(watch);
      clearTimeout(deadline);
      if (killed) {
        resolve({ ok: false, killed, ms: deadlineMs, extraBytes: peak, reset: false });
        return;
      }
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as ChildReport);
      } catch {
        reject(
          new Error(`the child printed no report (stdout ${JSON.stringify(out.slice(-400))}, stderr ${JSON.stringify(err.slice(-2000))})`),
        );
      }
    });
  });
}
