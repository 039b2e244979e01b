import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { JSONScalar } from '../../../../apps/api/src/platform/json.scalar.js';
import { PageInfo } from '#libs/core/pagination';

@ObjectType()
export class ModelDefinition {
  @Field(() => ID) id: string;
  @Field(() => String) name: string;
  @Field(() => Int) version: number;
  @Field(() => JSONScalar) spec: unknown;
  @Field(() => Date) createdAt: Date;
}

@InputType()
export class CreateModelInput {
  @Field(() => String) name: string;
  @Field(() => JSONScalar) spec: unknown;
}

/** A page of model versions, newest first; `totalCount` counts every version, not the page. */
@ObjectType()
export class ModelPage {
  @Field(() => [ModelDefinition]) nodes: ModelDefinition[];
  @Field(() => Int) totalCount: () => Promise<number>;
  @Field(() => PageInfo) pageInfo: PageInfo;
}
