/**
 * Errors for files recbridge reads. Every problem names the file and what is wrong with it, so a
 * user can tell a truncated download from a file written by a newer release.
 */
import { RecbridgeError } from '../core/errors';

/** A file whose bytes do not form what they claim (`code: 'ERR_CORRUPT_FILE'`). */
export class CorruptFileError extends RecbridgeError {
  constructor(
    readonly path: string,
    /** What is wrong, without the path ("tensor item.embedding fails its checksum"). */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_CORRUPT_FILE', `${path} is corrupt: ${detail}`, options);
    this.name = 'CorruptFileError';
  }
}

/** A well-formed file this release cannot use: a newer format version, an unsupported dtype… */
export class UnsupportedFileError extends RecbridgeError {
  constructor(
    code: 'ERR_UNSUPPORTED_VERSION' | 'ERR_UNSUPPORTED_FORMAT',
    readonly path: string,
    message: string,
  ) {
    super(code, message);
    this.name = 'UnsupportedFileError';
  }
}
