import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';

import { JSONScalar } from '#libs/core/graphql';
import { PageInfo } from '#libs/core/pagination';
import { MaxTrimmedLength, NotBlank } from '#libs/core/validation';

/** Names of model versions are stored trimmed. */
export const MAX_MODEL_NAME_LENGTH = 200;

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
  @Field(() => String) @NotBlank() @MaxTrimmedLength(MAX_MODEL_NAME_LENGTH) name: string;
  /** Checked by validateModelSpec (libs/pure/training), which names the path at fault inside it. */
  @Field(() => JSONScalar) spec: unknown;
}

/** A page of model versions, newest first; `totalCount` counts every version, not the page. */
@ObjectType()
export class ModelPage {
  @Field(() => [ModelDefinition]) nodes: ModelDefinition[];
  @Field(() => Int) totalCount: () => Promise<number>;
  @Field(() => PageInfo) pageInfo: PageInfo;
}
