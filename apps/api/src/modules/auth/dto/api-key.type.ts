import { ArgsType, Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';

import { MaxTrimmedLength, NoControlCharacters, NotBlank } from '#libs/core/validation';

import type { ApiKeyRole } from '../roles.js';

/** GraphQL names for the roles (enum values are upper case by convention; stored lower case). */
export enum ApiKeyRoleName {
  ADMIN = 'admin',
  WRITE = 'write',
  READ = 'read',
}
registerEnumType(ApiKeyRoleName, {
  name: 'ApiKeyRole',
  description:
    'admin: keys and deletes; write: uploads, models, runs, sweeps, cancels; ' +
    'read: queries, subscriptions, downloads, predict',
});

@ObjectType()
export class ApiKey {
  @Field(() => ID) id: string;
  @Field(() => String) name: string;
  @Field(() => String, { description: 'the first characters of the key, to tell keys apart' }) prefix: string;
  @Field(() => ApiKeyRoleName) role: ApiKeyRole;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true }) revokedAt: Date | null;
}

@ObjectType()
export class CreatedApiKey extends ApiKey {
  @Field(() => String, { description: 'the key itself: shown this once, stored only as a hash' }) key: string;
}

@ArgsType()
export class CreateApiKeyArgs {
  @Field(() => String) @NotBlank() @MaxTrimmedLength(200) @NoControlCharacters() name: string;
  @Field(() => ApiKeyRoleName, { nullable: true, description: 'defaults to READ, the least' })
  role?: ApiKeyRoleName | null;
}
