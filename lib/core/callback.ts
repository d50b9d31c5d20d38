/**
 * Calling a user's callback (onProgress, onModel…) from an async API call: a thrown error and a
 * returned promise that rejects both reject the call that invoked it — a callback's promise is
 * awaited, so its rejection can never escape as an unhandled rejection that kills the process.
 */
/** A callback may return anything; a returned promise is awaited. */
export type Callback<T extends unknown[]> = (...args: T) => unknown;

export async function invoke<T extends unknown[]>(callback: Callback<T> | undefined, ...args: T): Promise<void> {
  if (callback === undefined) return;
  const result = callback(...args) as unknown;
  if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<void>).then === 'function') await result;
}
