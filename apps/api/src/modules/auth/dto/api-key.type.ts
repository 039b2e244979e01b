import { Field, ID, ObjectType } from '@nestjs/graphql';

@ObjectType()
export class ApiKey {
  @Field(() => ID) id: string;
  @Field(() => String) name: string;
  @Field(() => String, { description: 'the first characters of the key, to tell keys apart' }) prefix: string;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true }) revokedAt: Date | null;
}

@ObjectType()
export class CreatedApiKey extends ApiKey {
  @Field(() => String, { description: 'the key itself: shown this once, stored only as a hash' }) key: string;
}
