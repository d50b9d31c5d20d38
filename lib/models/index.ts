/** recbridge/models: matrix factorization, two-tower models and their trainable parameters. */
export { Parameter, matchesPattern, type OptimizerStateKind } from './parameter';
export { Model } from './model';
export { MatrixFactorization, type MatrixFactorizationOptions } from './matrix-factorization';
export { TwoTower, type TwoTowerOptions, type TowerOptions } from './two-tower';
