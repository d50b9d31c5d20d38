/**
 * recbridge: transfer learning for recommender systems in Node.js. The root entry point exports every
 * area; each area is also its own entry point (`recbridge/core`, `recbridge/data`, `recbridge/models`,
 * `recbridge/train`, `recbridge/eval`, `recbridge/neighbours`, `recbridge/io`, `recbridge/transfer`,
 * `recbridge/serving`, `recbridge/report`, `recbridge/service`). A name means one thing everywhere: `export *` fails to
 * compile when two areas export the same name.
 */
export * from './core';
export * from './data';
export * from './models';
export * from './train';
export * from './eval';
export * from './neighbours';
export * from './io';
export * from './transfer';
export * from './serving';
export * from './report';
export * from './service';
