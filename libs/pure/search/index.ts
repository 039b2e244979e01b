export {
  buildModel,
  fitHyper,
  GP_MAX_TRIALS,
  type GpHyper,
  type GpOptions,
  logExpectedImprovement,
  logH,
  matern52,
  matern52GradR2,
  predict,
  resolveGpOptions,
  suggestGp,
} from './gp.js';
export {
  categoricalGridPdf,
  gridCounts,
  IMPORTANCE_MIN_TRIALS,
  numericalGridPdf,
  pearsonDivergence,
  pedAnovaImportance,
} from './importance.js';
export { choleskyWithJitter, inverseFromCholesky, solveLower, solveUpperT } from './linalg.js';
export {
  ABOVE_KERNELS,
  type EstimatorOptions,
  OPTUNA_ESTIMATOR,
  parseStrategyOptions,
  SearchOptionsError,
  type StrategyOptions,
  suggestOptions,
  TUNED_JOINT_ESTIMATOR,
} from './options.js';
export {
  ashaRungs,
  EarlyStoppingError,
  type EarlyStoppingRule,
  type HyperbandBracket,
  hyperbandBracketOf,
  hyperbandBrackets,
  type MedianRule,
  medianRulePrunes,
  parseEarlyStopping,
  type PruneContext,
  ruleChecksAt,
  shouldPrune,
} from './pruners.js';
export { sampleParam, sampleRandom } from './random.js';
export {
  gridPoint,
  gridSize,
  intCount,
  isValidValue,
  paramCardinality,
  type Params,
  type ParamSpec,
  type ParamValue,
  parseSearchSpace,
  type SearchSpace,
  SearchSpaceError,
  STRATEGIES,
  type Strategy,
} from './space.js';
export { suggest, type SuggestContext } from './suggest.js';
export {
  defaultGamma,
  defaultStartupTrials,
  defaultWeights,
  resolveTpeOptions,
  splitTrials,
  suggestTpe,
  tpeDraws,
  type TpeInput,
  type TpeOptions,
  tpeWindow,
  tpeWindowOf,
} from './tpe.js';
export { type Goal, isBetter, type TrialRecord, type TrialState } from './trials.js';
