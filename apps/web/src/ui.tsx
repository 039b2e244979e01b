import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

import { gql } from './api';

/** Client-side navigation: every page has its own /ui/... address; a reload asks the API, which serves the page. */
const routeListeners = new Set<() => void>();
export function navigate(path: string): void {
  history.pushState(null, '', path);
  routeListeners.forEach((listener) => listener());
}
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    routeListeners.add(update);
    addEventListener('popstate', update);
    return () => {
      routeListeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

export function Link(props: { href: string; children: ComponentChildren; class?: string }) {
  return (
    <a
      href={props.href}
      class={props.class}
      onClick={(event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

export interface QueryState<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/** Runs a GraphQL query when its variables change; `reload` runs it again. */
export function useQuery<T>(document: string, variables: Record<string, unknown> = {}): QueryState<T> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    gql<T>(document, variables).then(
      (data) => current && setState({ data, loading: false }),
      (error: Error) => current && setState({ error: error.message, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [document, key, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, reload };
}

interface Page<T> {
  totalCount: number;
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
  nodes: T[];
}

export interface PagedState<T> {
  rows: T[];
  total: number | null;
  error?: string;
  loading: boolean;
  hasMore: boolean;
  loadMore: () => void;
  reload: () => void;
}

/** How often a page that follows what changes without a subscription (a running sweep, a list) reads it again. */
const REFRESH_MS = 4000;

/** Calls `refresh` every REFRESH_MS while `active` and the tab is shown. `refresh` must not change between renders. */
export function useRefresh(active: boolean, refresh: () => void): void {
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => {
      if (window.document.visibilityState === 'visible') refresh();
    }, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [active]);
}

const FIRST_PAGE = 100;
const NEXT_PAGE = 250;

/**
 * A cursor-paged list (newest first, as the API pages them): the first page at once, the next when the table is
 * scrolled near its end (`loadMore`), each asked `after` the last page's endCursor, so rows inserted meanwhile
 * neither repeat nor shift a page.
 */
export function usePages<T>(
  document: string,
  field: string,
  variables: Record<string, unknown> = {},
  options: { live?: boolean } = {},
): PagedState<T> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{
    rows: T[];
    total: number | null;
    cursor: string | null;
    hasMore: boolean;
    pages: number;
    error?: string;
  }>({
    rows: [],
    total: null,
    cursor: null,
    hasMore: true,
    pages: 0,
  });
  const [loading, setLoading] = useState(false);
  const [generation, setGeneration] = useState(0);
  const inFlight = useRef(false);
  const current = useRef(0);

  const fetchPage = (after: string | null, replace: boolean) => {
    if (inFlight.current) return;
    inFlight.current = true;
    setLoading(true);
    const ticket = current.current;
    gql<Record<string, Page<T>>>(document, { ...variables, first: after ? NEXT_PAGE : FIRST_PAGE, after }).then(
      (data) => {
        inFlight.current = false;
        setLoading(false);
        if (ticket !== current.current) return;
        const page = data[field];
        setState((previous) => ({
          rows: replace ? page.nodes : [...previous.rows, ...page.nodes],
          total: page.totalCount,
          cursor: page.pageInfo.endCursor,
          hasMore: page.pageInfo.hasNextPage,
          pages: replace ? 1 : previous.pages + 1,
        }));
      },
      (error: Error) => {
        inFlight.current = false;
        setLoading(false);
        if (ticket === current.current) setState((previous) => ({ ...previous, error: error.message, hasMore: false }));
      },
    );
  };

  useEffect(() => {
    current.current++;
    inFlight.current = false;
    fetchPage(null, true);
  }, [document, key, generation]);

  // A `live` list reads its first page again only while no further page is loaded: a reload goes back to the first
  // page, which would undo the reader's scrolling.
  useRefresh(options.live === true && state.pages === 1, () => {
    if (!inFlight.current) setGeneration((value) => value + 1);
  });

  return {
    rows: state.rows,
    total: state.total,
    error: state.error,
    loading,
    hasMore: state.hasMore,
    loadMore: () => state.hasMore && fetchPage(state.cursor, false),
    reload: () => setGeneration((value) => value + 1),
  };
}

/** Every page of a paged field, fetched one after another (for a sweep's trials, which its charts need whole). */
export async function allPages<T>(
  document: string,
  variables: Record<string, unknown>,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each caller's document has its own answer shape
  pageOf: (data: any) => Page<T>,
  size = 500,
): Promise<T[]> {
  const rows: T[] = [];
  let after: string | null = null;
  for (;;) {
    const page: Page<T> = pageOf(await gql(document, { ...variables, first: size, after }));
    rows.push(...page.nodes);
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return rows;
    after = page.pageInfo.endCursor;
  }
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge badge-${props.status.toLowerCase()}`}>{props.status}</span>;
}

export function ErrorBox(props: { message?: string }) {
  return props.message ? (
    <div class="error" role="alert">
      {props.message}
    </div>
  ) : null;
}

export function formatNumber(value: unknown, digits = 4): string {
  if (typeof value !== 'number' || !Number.isFinite(value))
    return value === null || value === undefined ? '–' : String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en');
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6) ? value.toExponential(2) : value.toPrecision(digits);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatDate(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' }) : '–';
}

export interface Column<T> {
  title: string;
  width?: string;
  render: (row: T) => ComponentChildren;
  sortValue?: (row: T) => number | string | null | undefined;
}

const ROW_HEIGHT = 36;
const OVERSCAN = 8;

/**
 * A table that renders only the rows in view (fixed row height), so 5,000 trials or runs scroll without building
 * 5,000 DOM rows; columns with `sortValue` sort on a click of their header. Small enough to keep here rather than
 * pull in a virtualisation library for one fixed-height case.
 */
export function VirtualTable<T>(props: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  height?: number;
  onRowClick?: (row: T) => void;
  /** Called when the rows in view reach the end: the next page is due. */
  onNearEnd?: () => void;
  label: string;
}) {
  const [scrollTop, setScrollTop] = useState(0);
  const [sort, setSort] = useState<{ column: number; descending: boolean } | null>(null);
  const body = useRef<HTMLDivElement>(null);
  const height = Math.min(props.height ?? 520, Math.max(ROW_HEIGHT * 2, props.rows.length * ROW_HEIGHT + 2));
  const rows = sortRows(props.rows, props.columns, sort);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  useEffect(() => {
    if (props.onNearEnd && rows.length > 0 && last >= rows.length - OVERSCAN) props.onNearEnd();
  }, [last, rows.length]);
  const template = props.columns.map((column) => column.width ?? '1fr').join(' ');
  return (
    <div class="vtable" role="table" aria-label={props.label} data-rows={rows.length}>
      <div class="vtable-head" role="row" style={{ gridTemplateColumns: template }}>
        {props.columns.map((column, index) => (
          <div
            role="columnheader"
            class={column.sortValue ? 'sortable' : ''}
            onClick={() =>
              column.sortValue &&
              setSort((previous) => ({
                column: index,
                descending: previous?.column === index ? !previous.descending : false,
              }))
            }
          >
            {column.title}
            {sort?.column === index ? (sort.descending ? ' ▼' : ' ▲') : ''}
          </div>
        ))}
      </div>
      {rows.length === 0 ? (
        <div class="empty">nothing here yet</div>
      ) : (
        <div
          class="vtable-body"
          ref={body}
          style={{ height: `${height}px` }}
          onScroll={(event) => setScrollTop((event.target as HTMLDivElement).scrollTop)}
        >
          <div style={{ height: `${rows.length * ROW_HEIGHT}px`, position: 'relative' }}>
            {rows.slice(first, last).map((row, offset) => (
              <div
                role="row"
                key={props.rowKey(row)}
                class={`vtable-row${props.onRowClick ? ' clickable' : ''}`}
                style={{
                  top: `${(first + offset) * ROW_HEIGHT}px`,
                  height: `${ROW_HEIGHT}px`,
                  gridTemplateColumns: template,
                }}
                onClick={() => props.onRowClick?.(row)}
              >
                {props.columns.map((column) => (
                  <div role="cell">{column.render(row)}</div>
                ))}
              </div>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}

function sortRows<T>(rows: T[], columns: Column<T>[], sort: { column: number; descending: boolean } | null): T[] {
  const value = sort && columns[sort.column]?.sortValue;
  if (!sort || !value) return rows;
  const direction = sort.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const left = value(a);
    const right = value(b);
    if (left === right) return 0;
    if (left === null || left === undefined) return 1;
    if (right === null || right === undefined) return -1;
    return (left < right ? -1 : 1) * direction;
  });
}

export function Json(props: { value: unknown }) {
  return <pre class="json">{JSON.stringify(props.value, null, 2)}</pre>;
}

export function Card(props: { title?: string; children: ComponentChildren; class?: string }) {
  return (
    <section class={`card ${props.class ?? ''}`}>
      {props.title && <h2>{props.title}</h2>}
      {props.children}
    </section>
  );
}
