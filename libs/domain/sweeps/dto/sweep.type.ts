import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsOptional } from 'class-validator';

import { Goal, SearchStrategy, SweepStatus } from '#libs/core/graphql';
import { JSONScalar } from '#libs/core/graphql';
import { PageInfo } from '#libs/core/pagination';
import { IntBetween, NotBlank } from '#libs/core/validation';

export const MAX_TRIALS = 10_000;
export const MAX_PARALLELISM = 1000;
/** Seeds are stored as PostgreSQL integers. */
export const MAX_SEED = 2 ** 31 - 1;

@ObjectType()
export class Objective {
  @Field(() => String) metric: string;
  @Field(() => Goal) goal: Goal;
}

/** `runs` and `bestRun` are resolved by SweepsResolver. */
@ObjectType()
export class Sweep {
  @Field(() => ID) id: string;
  @Field(() => String) name: string;
  @Field(() => SweepStatus) status: SweepStatus;
  @Field(() => SearchStrategy) strategy: SearchStrategy;
  @Field(() => JSONScalar) searchSpace: unknown;
  @Field(() => Objective) objective: Objective;
  @Field(() => Int) maxTrials: number;
  @Field(() => Int) parallelism: number;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
  @Field(() => String, { nullable: true, description: 'why the sweep FAILED' }) error: string | null;
}

@InputType()
export class ObjectiveInput {
  @Field(() => String) metric: string;
  @Field(() => Goal) goal: Goal;
}

/** The scalar fields are checked by the rules here; the JSON ones by the search, training and spec validators. */
@InputType()
export class CreateSweepInput {
  @Field(() => String) @NotBlank() name: string;
  @Field(() => ID) datasetId: string;
  @Field(() => ID) modelId: string;
  @Field(() => SearchStrategy) strategy: SearchStrategy;
  @Field(() => JSONScalar) searchSpace: unknown;
  @Field(() => ObjectiveInput) objective: ObjectiveInput;
  @Field(() => Int) @IntBetween(1, MAX_TRIALS) maxTrials: number;
  @Field(() => Int, { nullable: true }) @IsOptional() @IntBetween(1, MAX_PARALLELISM) parallelism?: number | null;
  @Field(() => JSONScalar, { nullable: true }) earlyStopping?: unknown;
  @Field(() => JSONScalar) training: unknown;
  @Field(() => Int, { nullable: true }) @IsOptional() @IntBetween(0, MAX_SEED) seed?: number | null;
  @Field(() => JSONScalar, {
    nullable: true,
    description: 'the strategy\'s own options, e.g. TPE {"multivariate": true}',
  })
  options?: unknown;
}

/** A page of Sweeps, newest first; `totalCount` counts every row the query matches, not the page. */
@ObjectType()
export class SweepPage {
  @Field(() => [Sweep]) nodes: Sweep[];
  @Field(() => Int) totalCount: () => Promise<number>;
  @Field(() => PageInfo) pageInfo: PageInfo;
}
