/** recbridge/train: the matrix-factorization Trainer (SGD losses) and AlsTrainer (implicit ALS), and two-tower training. */
export {
  Trainer,
  type FitOptions,
  type FitReport,
  type EpochReport,
  type OptimizerOptions,
  type OptimizerType,
  type MfLossName,
  type SamplerOptions,
  type Progress,
  type ValidationOptions,
} from './trainer';
export {
  trainTwoTower,
  evaluateTwoTower,
  itemLogQ,
  type TwoTowerFitOptions,
  type TwoTowerOptimizerOptions,
  type TwoTowerOptimizerType,
  type DenseOptimizerOptions,
  type EmbeddingOptimizerOptions,
} from './two-tower-trainer';
export { AlsTrainer, type AlsFitOptions } from './als-trainer';
