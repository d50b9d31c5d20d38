/**
 * Training threads for the commands. Multi-threaded training is Hogwild (threads update shared rows
 * without locks), so its numbers change from run to run; the commands train on one thread unless
 * told otherwise, so that the same command gives the same numbers, and say so when they do not.
 */
import type { Args, FlagSpec } from './args';

export const TRAINING_THREADS_FLAG: FlagSpec = {
  value: 'T',
  help: 'training threads (default 1: bit-reproducible; more is faster but the numbers vary run to run)',
};

export interface TrainingThreads {
  value: number;
  reproducible: boolean;
  note: string;
}

export function trainingThreads(args: Args): TrainingThreads {
  const value = args.int('threads', 1, 256) ?? 1;
  return {
    value,
    reproducible: value === 1,
    note:
      value === 1
        ? ''
        : `trained with ${value} threads (lock-free Hogwild updates): another run of this command can give slightly different numbers; --threads 1 makes them reproducible`,
  };
}
