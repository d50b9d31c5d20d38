/** recbridge/models: matrix factorization, two-tower models, LightGCN and their trainable parameters. */
export { Parameter, matchesPattern, type OptimizerStateKind } from './parameter';
export { Model } from './model';
export { MatrixFactorization, type MatrixFactorizationOptions } from './matrix-factorization';
export { TwoTower, type TwoTowerOptions, type TowerOptions } from './two-tower';
export { LightGcn, normalisedAdjacency, type LightGcnOptions, type BprBatch, type LightGcnStepOptions } from './light-gcn';
