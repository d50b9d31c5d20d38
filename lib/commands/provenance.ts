/**
 * What every JSON result records so that a run can be reproduced and two runs compared: the
 * library and Node versions, the kernels and threads in use, the command line with every setting
 * (defaults filled in), the seeds, whether the numbers are bit-reproducible, and a fingerprint
 * (size and SHA-256) of each input file, so a changed input is seen rather than guessed.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { capabilities } from '../core/config';

export interface InputFingerprint {
  path: string;
  bytes: number;
  sha256: string;
}

export interface Provenance {
  recbridge: string;
  node: string;
  platform: string;
  isa: string;
  threads: number;
  command: string;
  settings: Record<string, unknown>;
  seeds: number[];
  /** False when the numbers can differ between two runs of the same command (and `reproducibleNote` says why and how to fix it). */
  reproducible: boolean;
  reproducibleNote?: string;
  inputs: InputFingerprint[];
  startedAt: string;
  seconds: number;
}

let version: string | undefined;

/** The installed package's version (read once from its package.json). */
export function packageVersion(): string {
  if (version === undefined) {
    const file = path.join(__dirname, '..', '..', 'package.json');
    version = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return version;
}

/** Size and SHA-256 of a file, streamed (inputs can be gigabytes). */
export async function fingerprint(file: string): Promise<InputFingerprint> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { path: file, bytes, sha256: hash.digest('hex') };
}

/** Collects the provenance of one command run; `finish()` stamps the duration. */
export class RunRecord {
  private readonly started = Date.now();
  private readonly startedAt = new Date(this.started).toISOString();
  private inputs: Promise<InputFingerprint>[] = [];
  reproducible = true;
  reproducibleNote: string | undefined;

  constructor(
    private readonly commandLine: string,
    private readonly settings: Record<string, unknown>,
    private readonly threads: number,
  ) {}

  /** Fingerprints the files (undefined, empty and `-` are skipped). */
  addInputs(...files: (string | undefined)[]): void {
    for (const f of files) if (f !== undefined && f !== '' && f !== '-') this.inputs.push(fingerprint(f));
  }

  notReproducible(note: string): void {
    this.reproducible = false;
    this.reproducibleNote = note;
  }

  async finish(seeds: number[]): Promise<Provenance> {
    const caps = capabilities();
    return {
      recbridge: packageVersion(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      isa: caps.isa,
      threads: this.threads,
      command: this.commandLine,
      settings: this.settings,
      seeds,
      reproducible: this.reproducible,
      ...(this.reproducibleNote ? { reproducibleNote: this.reproducibleNote } : {}),
      inputs: await Promise.all(this.inputs),
      startedAt: this.startedAt,
      seconds: (Date.now() - this.started) / 1000,
    };
  }
}

/** `recbridge <argv…>` with arguments quoted where a shell would need it. */
export function commandLine(argv: readonly string[]): string {
  return ['recbridge', ...argv].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
