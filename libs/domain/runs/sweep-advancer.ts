/**
 * What the runs domain asks of a sweep when one of its trials ends before a worker took it: ask for the next
 * trial. SweepScheduler provides it (libs/domain/sweeps), so runs need not import sweeps, which import runs.
 */
export abstract class SweepAdvancer {
  abstract advance(sweepId: string): Promise<void>;
}
