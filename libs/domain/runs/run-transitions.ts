import type { RunStatus } from '#libs/core/db';

/** Everything that may happen to a run. Each event has one from-status and one to-status (see RUN_TRANSITIONS). */
export type RunLifecycleEvent =
  | 'create'
  | 'reject'
  | 'claim'
  | 'heartbeat'
  | 'progress'
  | 'requestCancel'
  | 'cancel'
  | 'handBack'
  | 'requeue'
  | 'giveUp'
  | 'succeed'
  | 'prune'
  | 'stop'
  | 'fail';

/** The events a worker ends its own run with. */
export type RunFinishEvent = Extract<RunLifecycleEvent, 'succeed' | 'prune' | 'stop' | 'fail'>;

export interface RunTransition {
  /** null: the run does not exist yet. */
  from: RunStatus | null;
  event: RunLifecycleEvent;
  to: RunStatus;
}

/**
 * The run lifecycle, written down once. RunLifecycle's conditional updates take their WHERE status and their new
 * status from here, so a pair missing from this table cannot happen in the database.
 */
export const RUN_TRANSITIONS: readonly RunTransition[] = [
  { from: null, event: 'create', to: 'QUEUED' }, // startRun, or a sweep's next trial
  { from: null, event: 'reject', to: 'FAILED' }, // a sweep's trial whose values make no valid model
  { from: 'QUEUED', event: 'claim', to: 'RUNNING' }, // a worker takes this attempt
  { from: 'QUEUED', event: 'cancel', to: 'CANCELLED' }, // cancelRun before a worker took it, or its sweep ended
  { from: 'RUNNING', event: 'heartbeat', to: 'RUNNING' },
  { from: 'RUNNING', event: 'progress', to: 'RUNNING' }, // an epoch's record, preprocessing, a resume's rewind
  { from: 'RUNNING', event: 'requestCancel', to: 'RUNNING' }, // the worker stops it within a batch
  { from: 'RUNNING', event: 'handBack', to: 'QUEUED' }, // its worker is shutting down: same attempt
  { from: 'RUNNING', event: 'requeue', to: 'QUEUED' }, // its worker stopped beating: attempt + 1
  { from: 'RUNNING', event: 'giveUp', to: 'FAILED' }, // its worker was lost MAX_ATTEMPTS times
  { from: 'RUNNING', event: 'succeed', to: 'SUCCEEDED' },
  { from: 'RUNNING', event: 'prune', to: 'PRUNED' }, // its sweep's early stopping
  { from: 'RUNNING', event: 'stop', to: 'CANCELLED' }, // the worker stopped it on a cancel request
  { from: 'RUNNING', event: 'fail', to: 'FAILED' },
];

const BY_EVENT = new Map(RUN_TRANSITIONS.map((transition) => [transition.event, transition]));

/** The one transition an event makes. */
export function transitionOf(event: RunLifecycleEvent): RunTransition {
  const transition = BY_EVENT.get(event);
  if (!transition) throw new Error(`run lifecycle: no transition for event "${event}"`);
  return transition;
}

/** The status a run in `from` (null: not yet created) has after `event`, or null when the table forbids it. */
export function nextStatus(from: RunStatus | null, event: RunLifecycleEvent): RunStatus | null {
  const transition = BY_EVENT.get(event);
  return transition && transition.from === from ? transition.to : null;
}

/** The status a run must be in for `event`; the conditional updates put it in their WHERE. */
export function requiredStatus(event: RunLifecycleEvent): RunStatus {
  const { from } = transitionOf(event);
  if (from === null) throw new Error(`run lifecycle: "${event}" creates a run; it has no status to start from`);
  return from;
}

/** A status no event leaves: the run has ended. */
export function isFinal(status: RunStatus): boolean {
  return !RUN_TRANSITIONS.some((transition) => transition.from === status);
}

/** The statuses some event still leaves (queued, running): every other status is final. */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = [
  ...new Set(RUN_TRANSITIONS.flatMap((transition) => (transition.from === null ? [] : [transition.from]))),
];
