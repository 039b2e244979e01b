import { ArgsType, Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsOptional } from 'class-validator';

import { RunStatus } from '#libs/core/graphql';
import { JSONScalar } from '#libs/core/graphql';
import { PageInfo } from '#libs/core/pagination';
import { IntAtLeast } from '#libs/core/validation';

/** A downsampled series always keeps its first and last point. */
export const MIN_MAX_POINTS = 2;

@ObjectType()
export class MetricPoint {
  @Field(() => String) name: string;
  @Field(() => Int) step: number;
  @Field(() => Int, { nullable: true }) epoch: number | null;
  @Field(() => Number) value: number;
  @Field(() => Date) timestamp: Date;
}

@ObjectType()
export class MetricSeries {
  @Field(() => String) name: string;
  @Field(() => [MetricPoint]) points: MetricPoint[];
}

@ObjectType()
export class Checkpoint {
  @Field(() => ID) id: string;
  @Field(() => Int) epoch: number;
  @Field(() => JSONScalar, { nullable: true }) metrics: unknown;
  @Field(() => Int) sizeBytes: number;
  @Field(() => String, { description: 'path of model.json (TF.js layers format), loadable by tf.loadLayersModel' })
  modelUrl: string;
  @Field(() => Date) createdAt: Date;
}

/** Relations (dataset, model, sweep, metrics, checkpoints) are resolved by RunsResolver from these ids. */
@ObjectType()
export class Run {
  @Field(() => ID) id: string;
  @Field(() => RunStatus) status: RunStatus;
  @Field(() => JSONScalar) hyperparameters: unknown;
  @Field(() => JSONScalar) training: unknown;
  @Field(() => Int) attempt: number;
  @Field(() => Int) epochsCompleted: number;
  @Field(() => JSONScalar, { nullable: true }) summary: unknown;
  @Field(() => String, { nullable: true }) device: string | null;
  @Field(() => String, { nullable: true }) error: string | null;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true }) startedAt: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;

  datasetId: string;
  modelId: string;
  sweepId: string | null;
}

/** `Run.metrics(names, maxPoints)`: `maxPoints` downsamples each series in SQL. */
@ArgsType()
export class MetricsArgs {
  @Field(() => [String], { nullable: true }) names?: string[] | null;
  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IntAtLeast(MIN_MAX_POINTS, 'the first and last point')
  maxPoints?: number | null;
}

@InputType()
export class StartRunInput {
  @Field(() => ID) datasetId: string;
  @Field(() => ID) modelId: string;
  @Field(() => JSONScalar, { nullable: true }) hyperparameters?: unknown;
  @Field(() => JSONScalar) training: unknown;
}

/** A page of Runs, newest first; `totalCount` counts every row the query matches, not the page. */
@ObjectType()
export class RunPage {
  @Field(() => [Run]) nodes: Run[];
  @Field(() => Int) totalCount: () => Promise<number>;
  @Field(() => PageInfo) pageInfo: PageInfo;
}
