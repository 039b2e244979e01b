import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';

import { ColumnType, DatasetStatus } from '#libs/core/graphql';
import { PageInfo } from '#libs/core/pagination';

@ObjectType()
export class DatasetColumn {
  @Field(() => String) name: string;
  @Field(() => ColumnType) type: ColumnType;
  @Field(() => Int) missing: number;
  @Field(() => Int, { nullable: true }) distinct: number | null;
  @Field(() => Float, { nullable: true }) min: number | null;
  @Field(() => Float, { nullable: true }) max: number | null;
  @Field(() => Float, { nullable: true }) mean: number | null;
}

@ObjectType()
export class Dataset {
  @Field(() => ID) id: string;
  @Field(() => String) name: string;
  @Field(() => String) format: string;
  @Field(() => DatasetStatus) status: DatasetStatus;
  @Field(() => Float) sizeBytes: number;
  @Field(() => Int, { nullable: true }) rowCount: number | null;
  @Field(() => [DatasetColumn]) columns: DatasetColumn[];
  @Field(() => String, { nullable: true }) error: string | null;
  /** What the import skipped or doubts (a ZIP entry that is not an image, ...), each naming the file. */
  @Field(() => [String]) warnings: string[];
  @Field(() => Date) createdAt: Date;
}

/** A page of Datasets, newest first; `totalCount` counts every row the query matches, not the page. */
@ObjectType()
export class DatasetPage {
  @Field(() => [Dataset]) nodes: Dataset[];
  @Field(() => Int) totalCount: () => Promise<number>;
  @Field(() => PageInfo) pageInfo: PageInfo;
}
