import type { LrScheduleConfig } from './training-config.js';

/** The learning rate at optimiser step `step` (0-based), warm-up first, then the schedule. */
export function learningRateAt(
  base: number,
  schedule: LrScheduleConfig | null,
  step: number,
  totalSteps: number,
): number {
  if (!schedule) return base;
  const warmup = schedule.warmupSteps ?? 0;
  if (step < warmup) return (base * (step + 1)) / warmup;
  const t = step - warmup;
  switch (schedule.type) {
    case 'exponential':
      return base * (schedule.decayRate ?? 0.96) ** (t / (schedule.decaySteps ?? 100));
    case 'step':
      return base * (schedule.decayRate ?? 0.5) ** Math.floor(t / (schedule.stepSize ?? schedule.decaySteps ?? 100));
    case 'linear': {
      const span = Math.max(1, (schedule.totalSteps ?? totalSteps) - warmup);
      const end = schedule.endLearningRate ?? 0;
      return base + (end - base) * Math.min(1, t / span);
    }
    case 'cosine': {
      const span = Math.max(1, (schedule.totalSteps ?? schedule.decaySteps ?? totalSteps) - warmup);
      const alpha = schedule.alpha ?? 0;
      const cosine = 0.5 * (1 + Math.cos(Math.PI * Math.min(1, t / span)));
      return base * ((1 - alpha) * cosine + alpha);
    }
  }
}
