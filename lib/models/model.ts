/**
 * What every trainable model shares: named parameters (found by name, frozen or unfrozen by glob
 * pattern), an epoch count that keeps random streams from repeating across fitPartial calls, and a
 * busy flag so that a second operation gets ERR_BUSY instead of racing the first.
 */
import { RecbridgeError } from '../core/errors';
import { typeError } from '../core/validate';
import { type Parameter, matchesPattern } from './parameter';

export abstract class Model {
  /** Epochs trained so far (fitPartial continues the count, so random streams never repeat). */
  epochsTrained = 0;
  private busyWith: string | null = null;

  /** Every parameter, by name. */
  abstract parameters(): Parameter[];

  parameter(name: string): Parameter {
    const p = this.parameters().find((x) => x.name === name);
    if (!p)
      throw typeError(
        'name',
        `one of ${this.parameters()
          .map((x) => JSON.stringify(x.name))
          .join(', ')}`,
        name,
      );
    return p;
  }

  /** Freezes every parameter whose name matches the pattern ('item.*', 'user.mlp.*', '*'). */
  freeze(pattern: string): Parameter[] {
    return this.setTrainable(pattern, false);
  }

  unfreeze(pattern: string): Parameter[] {
    return this.setTrainable(pattern, true);
  }

  private setTrainable(pattern: string, value: boolean): Parameter[] {
    if (typeof pattern !== 'string') throw typeError('pattern', 'string', pattern);
    const hit = this.parameters().filter((p) => matchesPattern(p.name, pattern));
    if (hit.length === 0)
      throw typeError(
        'pattern',
        `a pattern matching one of ${this.parameters()
          .map((x) => x.name)
          .join(', ')}`,
        pattern,
      );
    for (const p of hit) p.trainable = value;
    return hit;
  }

  /** Marks the model busy for one operation; a second one gets ERR_BUSY instead of racing. */
  acquire(operation: string): () => void {
    if (this.busyWith !== null) {
      throw new RecbridgeError('ERR_BUSY', `The model is busy (${this.busyWith}); wait for it to finish before ${operation}`);
    }
    this.busyWith = operation;
    return () => {
      this.busyWith = null;
    };
  }

  get busy(): boolean {
    return this.busyWith !== null;
  }
}
