/**
 * "CODE message" of the error fn throws, or "no error": one string a test can match against the
 * code and the argument the message names (asserting on code, not instanceof, in jest's sandbox).
 */
export function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return `${(err as { code?: string }).code} ${(err as Error).message}`;
  }
  return 'no error';
}
