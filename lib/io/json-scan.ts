/**
 * JSON from files, parsed only after a linear scan of its bytes has bounded what JSON.parse would
 * build. JSON.parse itself is not the risk for well-shaped text, but its cost is: a few MB of
 * `[[[[…` take gigabytes and seconds, and a flat array costs some ten times its bytes. The scan
 * reads each byte once (string contents are skipped with indexOf), keeps a stack no deeper than
 * the depth limit, and stops at the first limit passed, so a hostile text costs one pass at most.
 */
import { LimitExceededError } from '../core/errors';
import { CorruptFileError } from './file-errors';

export interface JsonShape {
  /** Deepest nesting of arrays and objects (0 for a bare scalar). */
  depth: number;
  /** Values of every kind, containers included, and object members (an upper bound). */
  values: number;
  /** Elements or members of the outermost container. */
  members: number;
  /** Elements of the longest array. */
  longestArray: number;
}

export interface JsonBounds {
  maxDepth: number;
  maxValues: number;
  /** Most members of the outermost container (default: no bound beyond maxValues). */
  maxMembers?: number;
  /** Most elements of any array (default: no bound beyond maxValues). */
  maxArray?: number;
}

/** Which option each bound is raised by, and how the rejection reads. */
export interface JsonLimitNames {
  /** E.g. "its header", "recbridge.provenance". */
  what: string;
  depth: string;
  values: string;
  members?: { limit: string; max: number; describe: (n: number) => string };
  array?: { limit: string; max: number; describe: (n: number) => string };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * The shape of the JSON in `text` (UTF-8 bytes, or a string: every character the scan looks at is
 * ASCII, so both read alike), or the first bound it passes. Malformed text gets a shape that
 * JSON.parse then rejects; the scan only has to bound the work, not validate.
 */
export function scanJson(
  text: Uint8Array | string,
  bounds: JsonBounds,
): { shape: JsonShape; passed: null } | { shape: JsonShape; passed: keyof JsonBounds } {
  return typeof text === 'string'
    ? scan(
        text.length,
        (i) => text.charCodeAt(i),
        (from) => text.indexOf('"', from),
        bounds,
      )
    : scan(
        text.length,
        (i) => text[i],
        (from) => text.indexOf(QUOTE, from),
        bounds,
      );
}

function scan(
  n: number,
  at: (i: number) => number,
  nextQuote: (from: number) => number,
  bounds: JsonBounds,
): { shape: JsonShape; passed: null } | { shape: JsonShape; passed: keyof JsonBounds } {
  const maxMembers = bounds.maxMembers ?? Number.POSITIVE_INFINITY;
  const maxArray = bounds.maxArray ?? Number.POSITIVE_INFINITY;
  // Per open container: whether it is an array, its separators, and whether it holds anything.
  const isArray: boolean[] = [];
  const commas: number[] = [];
  const filled: boolean[] = [];
  const shape: JsonShape = { depth: 0, values: 0, members: 0, longestArray: 0 };
  let depth = 0;
  let inValue = false; // inside a number or literal (true, false, null), which counts once
  const done = (passed: keyof JsonBounds) => ({ shape, passed });
  for (let i = 0; i < n; i++) {
    const b = at(i);
    if (b === QUOTE) {
      // Skip to the closing quote: one preceded by an even run of backslashes.
      let j = i;
      for (;;) {
        j = nextQuote(j + 1);
        if (j < 0) {
          j = n;
          break;
        }
        let k = j - 1;
        while (k > i && at(k) === BACKSLASH) k--;
        if ((j - 1 - k) % 2 === 0) break;
      }
      i = j;
      inValue = false;
      if (depth > 0) filled[depth - 1] = true;
      if (++shape.values > bounds.maxValues) return done('maxValues');
      continue;
    }
    if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
      if (depth > 0) filled[depth - 1] = true;
      if (++depth > bounds.maxDepth) {
        shape.depth = depth;
        return done('maxDepth');
      }
      if (depth > shape.depth) shape.depth = depth;
      isArray[depth - 1] = b === OPEN_ARRAY;
      commas[depth - 1] = 0;
      filled[depth - 1] = false;
      inValue = false;
      if (++shape.values > bounds.maxValues) return done('maxValues');
      continue;
    }
    if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
      inValue = false;
      if (depth === 0) continue;
      depth--;
      const count = filled[depth] ? commas[depth] + 1 : 0;
      if (isArray[depth] && count > shape.longestArray) shape.longestArray = count;
      if (depth === 0) shape.members = count;
      continue;
    }
    if (b === COMMA) {
      inValue = false;
      if (depth === 0) continue;
      const c = ++commas[depth - 1];
      // Checked as the separators come, so a long container stops the scan early.
      if (depth === 1 && c + 1 > maxMembers) {
        shape.members = c + 1;
        return done('maxMembers');
      }
      if (isArray[depth - 1] && c + 1 > maxArray) {
        shape.longestArray = c + 1;
        return done('maxArray');
      }
      // An object member counts as a value beside its key and value.
      if (!isArray[depth - 1] && ++shape.values > bounds.maxValues) return done('maxValues');
      continue;
    }
    if (isSpace(b) || b === 0x3a) {
      inValue = false;
      continue;
    }
    if (!inValue) {
      inValue = true;
      if (depth > 0) filled[depth - 1] = true;
      if (++shape.values > bounds.maxValues) return done('maxValues');
    }
  }
  if (depth > 0) {
    // Unclosed (JSON.parse rejects it); report what the open containers hold so far.
    shape.members = filled[0] ? commas[0] + 1 : 0;
  }
  return { shape, passed: null };
}

/**
 * Parses JSON (UTF-8 bytes or a string) after scanning it against the bounds; a bound passed is a
 * LimitExceededError naming its option, invalid JSON a CorruptFileError of `path`.
 */
export function parseBoundedJson(
  json: Uint8Array | string,
  path: string,
  source: string,
  bounds: JsonBounds,
  names: JsonLimitNames,
): unknown {
  checkJsonBounds(json, source, bounds, names);
  let text: string;
  try {
    text = typeof json === 'string' ? json : new TextDecoder('utf-8', { fatal: true }).decode(json);
  } catch {
    throw new CorruptFileError(path, `${names.what} is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CorruptFileError(path, `${names.what} is not valid JSON (${(err as Error).message})`);
  }
}

/** The scan alone: throws LimitExceededError for the first bound the bytes pass. */
export function checkJsonBounds(json: Uint8Array | string, source: string, bounds: JsonBounds, names: JsonLimitNames): JsonShape {
  const { shape, passed } = scanJson(json, bounds);
  switch (passed) {
    case null:
      return shape;
    case 'maxDepth':
      throw new LimitExceededError(
        source,
        names.depth,
        bounds.maxDepth,
        `${names.what} nests JSON more than ${bounds.maxDepth} levels deep`,
      );
    case 'maxValues':
      throw new LimitExceededError(source, names.values, bounds.maxValues, `${names.what} holds more than ${bounds.maxValues} JSON values`);
    case 'maxMembers': {
      const m = names.members!;
      throw new LimitExceededError(source, m.limit, m.max, `${names.what} ${m.describe(shape.members)}`);
    }
    case 'maxArray': {
      const a = names.array!;
      throw new LimitExceededError(source, a.limit, a.max, `${names.what} ${a.describe(shape.longestArray)}`);
    }
  }
  return shape;
}
