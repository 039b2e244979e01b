import { describe, expect, it } from 'vitest';

import type { SearchSpace, TrialRecord } from './index.js';
import {
  ABOVE_KERNELS,
  OPTUNA_ESTIMATOR,
  parseStrategyOptions,
  resolveTpeOptions,
  SearchOptionsError,
  suggest,
  suggestOptions,
  tpeWindow,
  TUNED_JOINT_ESTIMATOR,
} from './index.js';

describe('TPE sweep options', () => {
  it('new sweeps store the multivariate TPE with the tuned estimator, every setting resolved', () => {
    expect(parseStrategyOptions({}, 'TPE', 50)).toEqual({
      multivariate: true,
      nStartupTrials: 10,
      nEiCandidates: 24,
      bandwidth: 'scott',
      magicClipExponent: 1.5,
      minBandwidthFactor: 0.03,
      improvementWeights: true,
      sharpLiar: true,
      aboveKernels: 250,
    });
    // univariate: Optuna's estimator, where the tuned one did worse
    expect(parseStrategyOptions({ multivariate: false }, 'TPE', 50)).toEqual({
      multivariate: false,
      nStartupTrials: 10,
      nEiCandidates: 24,
      aboveKernels: 250,
      ...OPTUNA_ESTIMATOR,
    });
    expect(parseStrategyOptions({ magicClipExponent: 2, sharpLiar: false }, 'TPE', 50)).toMatchObject({
      ...TUNED_JOINT_ESTIMATOR,
      magicClipExponent: 2,
      sharpLiar: false,
    });
    // a stored set is valid input again and resolves to itself
    const stored = parseStrategyOptions({}, 'TPE', 50);
    expect(parseStrategyOptions(stored, 'TPE', 50)).toEqual(stored);
  });

  it.each([
    [{ bandwidth: 'silverman' }, /options\.bandwidth must be "scott" or "neighbours", got "silverman"/],
    [{ magicClipExponent: 0 }, /options\.magicClipExponent must be a number between 0\.5 and 4, got 0/],
    [{ minBandwidthFactor: '0.1' }, /options\.minBandwidthFactor must be a number between 0 and 0\.5, got "0\.1"/],
    [{ improvementWeights: 1 }, /options\.improvementWeights must be true or false, got 1/],
    [{ sharpLiar: null }, /options\.sharpLiar must be true or false, got null/],
    [{ aboveKernels: 10 }, /options\.aboveKernels must be an integer between 25 and 10000, got 10/],
    [{ aboveKernels: 99.5 }, /options\.aboveKernels must be an integer between 25 and 10000, got 99\.5/],
    [
      { gamma: 0.2 },
      /options\.gamma is not an option of TPE \(it takes: multivariate, nStartupTrials, nEiCandidates, bandwidth,/,
    ],
  ])('refuses %j', (options, message) => {
    expect(() => parseStrategyOptions(options, 'TPE', 50)).toThrow(SearchOptionsError);
    expect(() => parseStrategyOptions(options, 'TPE', 50)).toThrow(message);
  });

  it('a sweep stored before the estimator settings existed keeps suggesting what it did (Optuna estimator)', () => {
    const space: SearchSpace = { x: { type: 'uniform', min: -5, max: 10 }, y: { type: 'uniform', min: 0, max: 15 } };
    const history: TrialRecord[] = Array.from({ length: 15 }, (_, i) => {
      const x = -5 + ((i * 7.3) % 15);
      const y = (i * 4.1) % 15;
      return { index: i, params: { x, y }, state: 'complete', value: (x - 3) ** 2 + (y - 2) ** 2 };
    });
    const old = { multivariate: true, nStartupTrials: 10, nEiCandidates: 24 }; // as stored by the previous release
    const ctx = {
      strategy: 'TPE' as const,
      space,
      goal: 'MINIMIZE' as const,
      seed: 5,
      trialIndex: 15,
      history,
      maxTrials: 50,
    };
    expect(suggestOptions('TPE', old)).toEqual({ tpe: old });
    const asBefore = suggest({ ...ctx, ...suggestOptions('TPE', old) });
    expect(asBefore).toEqual(suggest({ ...ctx, tpe: { ...old, ...OPTUNA_ESTIMATOR } }));
    const tuned = suggest({ ...ctx, ...suggestOptions('TPE', parseStrategyOptions({}, 'TPE', 50)) });
    expect(tuned).not.toEqual(asBefore);
    expect(suggest({ ...ctx, ...suggestOptions('TPE', parseStrategyOptions({}, 'TPE', 50)) })).toEqual(tuned);
  });

  it('a TPE sweep stored before aboveKernels existed keeps every kernel in g(x); new ones store the cap', () => {
    const old = { multivariate: true, nStartupTrials: 10, nEiCandidates: 24, ...TUNED_JOINT_ESTIMATOR };
    expect(suggestOptions('TPE', old).tpe).not.toHaveProperty('aboveKernels');
    expect(resolveTpeOptions(suggestOptions('TPE', old).tpe, 5000).aboveKernels).toBe(Infinity);
    expect(tpeWindow(suggestOptions('TPE', old).tpe, 5000)).toBeNull(); // the scheduler reads every trial
    const stored = parseStrategyOptions({}, 'TPE', 5000);
    expect(suggestOptions('TPE', stored).tpe!.aboveKernels).toBe(ABOVE_KERNELS);
    expect(tpeWindow(suggestOptions('TPE', stored).tpe, 5000)).not.toBeNull();
    expect(parseStrategyOptions({ aboveKernels: 1000 }, 'TPE', 5000)!.aboveKernels).toBe(1000);
  });
});
