export {
  gridPoint,
  gridSize,
  intCount,
  isValidValue,
  paramCardinality,
  parseSearchSpace,
  SearchSpaceError,
  STRATEGIES,
  type ParamSpec,
  type Params,
  type ParamValue,
  type SearchSpace,
  type Strategy,
} from './space.js';
export { isBetter, type Goal, type TrialRecord, type TrialState } from './trials.js';
export { sampleParam, sampleRandom } from './random.js';
export { defaultGamma, defaultStartupTrials, defaultWeights, resolveTpeOptions, splitTrials, suggestTpe, type TpeOptions } from './tpe.js';
export { suggest, type SuggestContext } from './suggest.js';
export {
  ashaRungs,
  EarlyStoppingError,
  hyperbandBracketOf,
  hyperbandBrackets,
  medianRulePrunes,
  parseEarlyStopping,
  ruleChecksAt,
  shouldPrune,
  type EarlyStoppingRule,
  type HyperbandBracket,
  type MedianRule,
  type PruneContext,
} from './pruners.js';
export {
  categoricalGridPdf,
  gridCounts,
  IMPORTANCE_MIN_TRIALS,
  numericalGridPdf,
  pearsonDivergence,
  pedAnovaImportance,
} from './importance.js';
export {
  buildModel,
  fitHyper,
  logExpectedImprovement,
  logH,
  matern52,
  matern52GradR2,
  predict,
  resolveGpOptions,
  suggestGp,
  type GpHyper,
  type GpOptions,
} from './gp.js';
export { choleskyWithJitter, inverseFromCholesky, solveLower, solveUpperT } from './linalg.js';
export {
  OPTUNA_ESTIMATOR,
  parseStrategyOptions,
  SearchOptionsError,
  suggestOptions,
  TUNED_JOINT_ESTIMATOR,
  type EstimatorOptions,
  type StrategyOptions,
} from './options.js';
