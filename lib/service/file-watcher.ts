/**
 * Calls back, debounced, when one of some files may have changed. A replacement by rename (what
 * saveModel does) is an event on the directory, not on the old file's inode, so the directory is
 * watched (fs.watch, filtered by name); stat polling (fs.watchFile) backs it up where inotify
 * events are lost or unavailable (network and container file systems). The callback decides
 * whether anything really changed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface FileWatcherOptions {
  /** Quiet time after the last event before the callback runs, ms. */
  debounceMs: number;
  /** Stat polling interval, ms; 0 turns polling off. */
  pollMs: number;
}

export class FileWatcher {
  private readonly watchers: fs.FSWatcher[] = [];
  private readonly polled: [string, (cur: fs.Stats, prev: fs.Stats) => void][] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    files: string[],
    private readonly onChange: () => void,
    private readonly options: FileWatcherOptions,
  ) {
    const byDir = new Map<string, Set<string>>();
    for (const f of files) {
      const abs = path.resolve(f);
      const names = byDir.get(path.dirname(abs)) ?? new Set<string>();
      names.add(path.basename(abs));
      byDir.set(path.dirname(abs), names);
    }
    for (const [dir, names] of byDir) {
      try {
        const w = fs.watch(dir, { persistent: false }, (_event, name) => {
          // Some platforms give no name: then any event in the folder may concern the file.
          if (name === null || names.has(name.toString())) this.schedule();
        });
        // A folder that goes away, or a watcher the system cannot keep: polling still runs.
        w.on('error', () => w.close());
        this.watchers.push(w);
      } catch {
        // fs.watch is unavailable on this file system; polling covers it.
      }
    }
    if (options.pollMs > 0) {
      for (const f of files) {
        const abs = path.resolve(f);
        const listener = (cur: fs.Stats, prev: fs.Stats) => {
          if (cur.mtimeMs !== prev.mtimeMs || cur.ino !== prev.ino || cur.size !== prev.size) this.schedule();
        };
        fs.watchFile(abs, { interval: options.pollMs, persistent: false }, listener);
        this.polled.push([abs, listener]);
      }
    }
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) this.onChange();
    }, this.options.debounceMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    for (const [f, listener] of this.polled) fs.unwatchFile(f, listener);
  }
}
