import type { Type } from '@nestjs/common';
import { Field, Int, ObjectType, Parent, ResolveField, Resolver } from '@nestjs/graphql';

import { AppError, isUuid } from '#libs/core/errors';

/** Contract 2: `first` defaults to 50 and is at most 500. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

@ObjectType()
export class PageInfo {
  @Field(() => String, { nullable: true }) endCursor: string | null;
  @Field(() => Boolean) hasNextPage: boolean;
}

/** The position after a row in (createdAt, id) descending order: the last row of the page before. */
export interface PageCursor {
  createdAt: Date;
  id: string;
}

/** What a repository is asked for: rows strictly after `after`, newest first, `take` of them. */
export interface PageQuery {
  after: PageCursor | null;
  take: number;
}

/**
 * A page as the GraphQL types hold it. `totalCount` is a thunk, called by the page type's field resolver
 * (pageTotalCountResolver), so the count query runs only when a client selects `totalCount`.
 */
export interface Page<T> {
  nodes: T[];
  totalCount: () => Promise<number>;
  pageInfo: PageInfo;
}

/** Opaque to clients: base64url of "<createdAt ISO>|<id>". */
export function encodeCursor(row: PageCursor): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(after: string): PageCursor {
  const [iso, id, ...rest] = Buffer.from(after, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (rest.length > 0 || !id || !isUuid(id) || Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== iso) {
    throw AppError.badInput(
      `after: "${after}" is not a cursor of this list; pass a pageInfo.endCursor this API returned`,
    );
  }
  return { createdAt, id };
}

/** Checks `first` and `after` as the client gave them; a bad value is BAD_USER_INPUT naming it. */
export function pageQuery(first: number | null | undefined, after: string | null | undefined): PageQuery {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw AppError.badInput(`first: must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${size}`);
  }
  return { after: after === null || after === undefined ? null : decodeCursor(after), take: size };
}

/**
 * Prisma's where-clause for "after the cursor" in (createdAt DESC, id DESC) order. The redundant
 * `createdAt <= cursor` is the index condition PostgreSQL can seek on (an OR alone would make it
 * scan the index from the top and filter), so a deep page costs what the first one does.
 */
export function afterCursor(after: PageCursor | null): object {
  if (!after) return {};
  return {
    createdAt: { lte: after.createdAt },
    OR: [{ createdAt: { lt: after.createdAt } }, { id: { lt: after.id } }],
  };
}

/** The keyset order every page uses; the (…, created_at DESC, id DESC) indexes serve it. */
export const NEWEST_FIRST = [{ createdAt: 'desc' as const }, { id: 'desc' as const }];

/** Builds the page from `take + 1` rows fetched: the extra row only says whether a next page exists. */
export function toPage<Row extends PageCursor, Node>(
  rows: Row[],
  query: PageQuery,
  count: () => Promise<number>,
  map: (row: Row) => Node,
): Page<Node> {
  const hasNextPage = rows.length > query.take;
  const kept = hasNextPage ? rows.slice(0, query.take) : rows;
  const last = kept.at(-1);
  const endCursor = last ? encodeCursor(last) : null;
  return { nodes: kept.map(map), totalCount: count, pageInfo: { endCursor, hasNextPage } };
}

/** The `totalCount` field resolver of one page type: runs the page's count only when it is selected. */
export function pageTotalCountResolver(pageType: Type): Type {
  @Resolver(() => pageType)
  class PageTotalCountResolver {
    @ResolveField('totalCount', () => Int)
    totalCount(@Parent() page: Page<unknown>): Promise<number> {
      return page.totalCount();
    }
  }
  // Nest names providers by class name in its logs and errors; one per page type keeps them apart.
  Object.defineProperty(PageTotalCountResolver, 'name', { value: `${pageType.name}TotalCountResolver` });
  return PageTotalCountResolver;
}
