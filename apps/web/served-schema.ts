import 'reflect-metadata';

import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GraphQLSchemaBuilderModule, GraphQLSchemaFactory } from '@nestjs/graphql';
import { type GraphQLSchema, lexicographicSortSchema } from 'graphql';

import { loadConfig } from '#libs/core/config';

import { AppModule } from '../api/src/app.module.js';

/** Nest's own key for a class decorated with @Resolver (see @nestjs/graphql's graphql.constants). */
const RESOLVER_TYPE_METADATA = 'graphql:resolver_type';

type ModuleRef = Type | DynamicModule | Promise<DynamicModule> | undefined;

/** Every @Resolver class provided by a module reachable from `root`, found by walking the module metadata. */
async function resolversOf(
  root: ModuleRef,
  seen = new Set<unknown>(),
  found = new Set<abstract new (...args: never[]) => unknown>(),
): Promise<(abstract new (...args: never[]) => unknown)[]> {
  const module = await root;
  if (!module || seen.has(module)) return [...found];
  seen.add(module);
  const dynamic = 'module' in module ? (module as DynamicModule) : undefined;
  const type = dynamic ? dynamic.module : (module as Type);
  const providers = [...(Reflect.getMetadata('providers', type) ?? []), ...(dynamic?.providers ?? [])];
  for (const provider of providers) {
    if (typeof provider === 'function' && Reflect.getMetadata(RESOLVER_TYPE_METADATA, provider)) found.add(provider);
  }
  for (const child of [...(Reflect.getMetadata('imports', type) ?? []), ...(dynamic?.imports ?? [])]) {
    await resolversOf(child as ModuleRef, seen, found);
  }
  return [...found];
}

/**
 * The schema the API serves, built code-first from its resolvers exactly as the GraphQL module builds it at start,
 * but without a database or queue: the dashboard's documents are validated against it at build time.
 */
export async function servedSchema(): Promise<GraphQLSchema> {
  const resolvers = await resolversOf(AppModule.register(loadConfig()));
  const app = await NestFactory.create(GraphQLSchemaBuilderModule, { logger: false });
  await app.init();
  try {
    return lexicographicSortSchema(await app.get(GraphQLSchemaFactory).create(resolvers));
  } finally {
    await app.close();
  }
}
