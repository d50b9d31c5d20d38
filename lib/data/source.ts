/**
 * Arguments of the in-memory parsers: the text itself (a string, or UTF-8 bytes such as a Buffer)
 * and the name that stands for a file in messages and in format detection.
 */
import { types } from 'node:util';

import { expectNotDetached, typeError } from '../core/validate';

export interface SourceOptions {
  /**
   * Stands for a file name: messages read `name:line: reason`, and the format (and, for features,
   * the id column) is detected from it as from a file name. Default '<string>' or '<buffer>'.
   */
  name?: string;
}

export function expectSource(argument: string, value: unknown): string | Uint8Array {
  if (typeof value === 'string') return value;
  if (!types.isUint8Array(value)) throw typeError(argument, 'string or Uint8Array', value);
  expectNotDetached(argument, value);
  return value;
}

export function sourceName(source: string | Uint8Array, name: unknown): string {
  if (name === undefined) return typeof source === 'string' ? '<string>' : '<buffer>';
  if (typeof name !== 'string' || name === '') throw typeError('options.name', 'non-empty string', name);
  return name;
}
