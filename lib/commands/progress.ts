/**
 * Progress on stderr: a bar with ETA redrawn in place on a terminal; on a pipe or a log file, plain
 * lines at most every `interval` (carriage returns would glue a log's lines together); nothing when
 * quiet. Everything goes to stderr so stdout stays clean for results.
 */

export interface ProgressOptions {
  quiet?: boolean;
  /** Default process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Milliseconds between plain lines when not a terminal. Default 5000. */
  interval?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export class ProgressReporter {
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly tty: boolean;
  private readonly quiet: boolean;
  private readonly interval: number;
  private readonly now: () => number;
  private started = 0;
  private last = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private label = '';
  private total = 0;

  constructor(options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.quiet = options.quiet === true;
    this.interval = options.interval ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** Starts a phase of `total` steps (0 when unknown). */
  start(label: string, total: number): void {
    this.finishLine();
    this.label = label;
    this.total = total;
    this.started = this.now();
    this.last = Number.NEGATIVE_INFINITY;
  }

  update(done: number, detail = ''): void {
    if (this.quiet) return;
    const t = this.now();
    const complete = this.total > 0 && done >= this.total;
    if (this.tty) {
      if (t - this.last < 100 && !complete) return;
      this.last = t;
      const line = this.render(done, detail, t, true);
      const width = Math.max(20, (this.stream.columns ?? 80) - 1);
      this.stream.write(`\r${line.slice(0, width).padEnd(width)}`);
      this.drawn = true;
      return;
    }
    if (t - this.last < this.interval && !complete) return;
    this.last = t;
    this.stream.write(`${this.render(done, detail, t, false)}\n`);
  }

  /** A line of its own (a result, a warning), without breaking the bar. */
  log(message: string): void {
    if (this.quiet) return;
    this.finishLine();
    this.stream.write(`${message}\n`);
  }

  /** Ends the bar's line. */
  done(): void {
    this.finishLine();
  }

  private finishLine(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  private render(done: number, detail: string, t: number, bar: boolean): string {
    const elapsed = (t - this.started) / 1000;
    const parts = [this.label];
    if (this.total > 0) {
      const share = Math.min(1, done / this.total);
      if (bar) {
        const cells = 24;
        const filled = Math.round(share * cells);
        parts.push(`[${'#'.repeat(filled)}${'-'.repeat(cells - filled)}]`);
      }
      parts.push(`${(share * 100).toFixed(0).padStart(3)}%`, `${Math.floor(Math.min(done, this.total))}/${this.total}`);
      const eta = share > 0 && share < 1 ? (elapsed * (1 - share)) / share : 0;
      parts.push(share < 1 ? `ETA ${clock(eta)}` : `${clock(elapsed)}`);
    } else {
      parts.push(`${Math.floor(done)}`, clock(elapsed));
    }
    if (detail) parts.push(detail);
    return parts.join(' ');
  }
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}
