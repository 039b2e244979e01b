import { describe, expect, it } from 'vitest';

import { RunStatus } from '#libs/core/db';

import { pickBestCheckpoint, rankCheckpoints } from './checkpoint-ranking.js';
import {
  ACTIVE_RUN_STATUSES,
  isFinal,
  nextStatus,
  requiredStatus,
  RUN_TRANSITIONS,
  type RunLifecycleEvent,
  transitionOf,
} from './run-transitions.js';

/** The lifecycle as the README and the issue describe it, written out independently of RUN_TRANSITIONS. */
const ALLOWED: Record<string, RunStatus> = {
  'null create': 'QUEUED',
  'null reject': 'FAILED',
  'QUEUED claim': 'RUNNING',
  'QUEUED cancel': 'CANCELLED',
  'RUNNING heartbeat': 'RUNNING',
  'RUNNING progress': 'RUNNING',
  'RUNNING requestCancel': 'RUNNING',
  'RUNNING handBack': 'QUEUED',
  'RUNNING requeue': 'QUEUED',
  'RUNNING giveUp': 'FAILED',
  'RUNNING succeed': 'SUCCEEDED',
  'RUNNING prune': 'PRUNED',
  'RUNNING stop': 'CANCELLED',
  'RUNNING fail': 'FAILED',
};

const EVENTS: RunLifecycleEvent[] = [
  'create',
  'reject',
  'claim',
  'heartbeat',
  'progress',
  'requestCancel',
  'cancel',
  'handBack',
  'requeue',
  'giveUp',
  'succeed',
  'prune',
  'stop',
  'fail',
];
const FROM: (RunStatus | null)[] = [null, ...Object.values(RunStatus)];

describe('the run transition table', () => {
  const pairs = FROM.flatMap((from) => EVENTS.map((event) => ({ from, event, key: `${from} ${event}` })));

  it('covers every event once, and nothing else', () => {
    expect(RUN_TRANSITIONS.map((transition) => transition.event).sort()).toEqual([...EVENTS].sort());
    expect(RUN_TRANSITIONS).toHaveLength(Object.keys(ALLOWED).length);
  });

  it.each(pairs.filter((pair) => pair.key in ALLOWED))('allows $event from $from', ({ from, event, key }) => {
    expect(nextStatus(from, event)).toBe(ALLOWED[key]);
  });

  it.each(pairs.filter((pair) => !(pair.key in ALLOWED)))('forbids $event from $from', ({ from, event }) => {
    expect(nextStatus(from, event)).toBeNull();
  });

  it('names the status each conditional update requires, and refuses it for the events that create a run', () => {
    expect(requiredStatus('claim')).toBe('QUEUED');
    expect(requiredStatus('succeed')).toBe('RUNNING');
    expect(() => requiredStatus('create')).toThrow('"create" creates a run');
    expect(() => transitionOf('finish' as RunLifecycleEvent)).toThrow('no transition for event "finish"');
  });

  it('calls a status final exactly when no event leaves it', () => {
    const final = Object.values(RunStatus).filter(isFinal);
    expect(final.sort()).toEqual(['CANCELLED', 'FAILED', 'PRUNED', 'SUCCEEDED']);
  });

  it('calls active exactly the statuses that are not final', () => {
    const active = Object.values(RunStatus).filter((status) => !isFinal(status));
    expect([...ACTIVE_RUN_STATUSES].sort()).toEqual(active.sort());
    expect(active.sort()).toEqual(['QUEUED', 'RUNNING']);
  });
});

describe('the best checkpoint (one order for the API and for pruning)', () => {
  const training = { checkpoint: { every: 1, keep: 2, monitor: 'val_loss', mode: 'min' as const } };

  it('ranks by the monitored metric, the later epoch first on a tie', () => {
    const checkpoints = [
      { epoch: 1, metrics: { val_loss: 0.5 } },
      { epoch: 2, metrics: { val_loss: 0.3 } },
      { epoch: 3, metrics: { val_loss: 0.3 } },
      { epoch: 4, metrics: { val_loss: 0.4 } },
    ];
    expect(rankCheckpoints(checkpoints, training).map((c) => c.epoch)).toEqual([3, 2, 4, 1]);
    expect(pickBestCheckpoint(checkpoints, training)?.epoch).toBe(3);
  });

  it('maximises in max mode, puts a checkpoint without the metric last, and picks the latest when none has it', () => {
    const max = { checkpoint: { ...training.checkpoint, monitor: 'val_accuracy', mode: 'max' as const } };
    const checkpoints = [
      { epoch: 1, metrics: { val_accuracy: 0.9 } },
      { epoch: 2, metrics: { loss: 0.1 } },
      { epoch: 3, metrics: { val_accuracy: 0.7 } },
    ];
    expect(rankCheckpoints(checkpoints, max).map((c) => c.epoch)).toEqual([1, 3, 2]);
    expect(
      pickBestCheckpoint(
        [
          { epoch: 1, metrics: null },
          { epoch: 2, metrics: {} },
        ],
        max,
      )?.epoch,
    ).toBe(2);
    expect(pickBestCheckpoint([], max)).toBeNull();
  });
});
