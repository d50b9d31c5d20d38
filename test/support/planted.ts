// A planted implicit-feedback dataset for known-answer training tests: 4 latent groups, user x
// likes items i with i % 4 == x % 4; 20 training and 5 test interactions per user. `skew` > 1 makes
// low item ids more popular inside each group (for popularity samplers).
import { Interactions, uniformGenerator } from '../../lib';

export function planted(users = 400, items = 200, seed = 1, skew = 1): { train: Interactions; test: Interactions } {
  const u = uniformGenerator(seed);
  const tu: number[] = [],
    ti: number[] = [],
    vu: number[] = [],
    vi: number[] = [];
  for (let x = 0; x < users; x++) {
    for (let t = 0; t < 25; t++) {
      const i = Math.floor(u() ** skew * (items / 4)) * 4 + (x % 4);
      (t < 20 ? tu : vu).push(x);
      (t < 20 ? ti : vi).push(i);
    }
  }
  return {
    train: new Interactions({ users: tu, items: ti, numUsers: users, numItems: items }),
    test: new Interactions({ users: vu, items: vi, numUsers: users, numItems: items }),
  };
}
