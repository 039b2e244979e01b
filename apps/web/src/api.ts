import { type Client, createClient } from 'graphql-ws';

import { AppErrorCode } from '#libs/pure/errors';

/** The key lives in sessionStorage only (gone when the tab closes) and travels as a header, never in a URL. */
const KEY_STORAGE = 'trainer.apiKey';

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function setApiKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
  resetSubscriptions();
}

export function authHeaders(): Record<string, string> {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** Raised when the server wants a key (HTTP 401 / UNAUTHENTICATED): the shell then asks for one. */
export class Unauthenticated extends Error {}

type Listener = () => void;
const unauthenticatedListeners = new Set<Listener>();
export function onUnauthenticated(listener: Listener): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}
/**
 * Tells the shell to ask for a key, unless the refused request carried another key than the one held now: a
 * request sent with a wrong key can be answered after the user typed the right one, and must not ask again.
 */
function refused(keySent: string | null, message: string): Unauthenticated {
  if (keySent === apiKey()) for (const listener of unauthenticatedListeners) listener();
  return new Unauthenticated(message);
}

export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export async function gql<T>(document: string, variables: Record<string, unknown> = {}): Promise<T> {
  const keySent = apiKey();
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeaders() },
    body: JSON.stringify({ query: document, variables }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    data?: T;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  const error = body.errors?.[0];
  if (response.status === 401 || error?.extensions?.code === AppErrorCode.Unauthenticated)
    throw refused(keySent, error?.message ?? 'a key is needed');
  if (error) throw new GraphQLRequestError(error.message, error.extensions?.code);
  if (!response.ok || !body.data) throw new GraphQLRequestError(`the API answered ${response.status}`);
  return body.data;
}

/**
 * The wait before reconnection attempt `retries` (0 for the first): doubling from half a second up to five, plus up
 * to a second at random so the tabs left open on a restarted API do not all come back at once. graphql-ws's own
 * back-off doubles without limit: after an outage of a minute its next try is about a minute away, after a night
 * a night away, so a dashboard would stay "connecting" long after the API is back.
 */
function reconnectDelay(retries: number): number {
  return Math.min(500 * 2 ** retries, 5_000) + Math.floor(Math.random() * 1_000);
}

let client: Client | undefined;
let connectedNow = false;
const connectionListeners = new Set<(connected: boolean) => void>();

/** Tells `listener` whether the subscription socket is connected: now, and at every change. */
export function onConnectionChange(listener: (connected: boolean) => void): () => void {
  connectionListeners.add(listener);
  listener(connectedNow);
  return () => connectionListeners.delete(listener);
}

function connectionChanged(connected: boolean): void {
  connectedNow = connected;
  connectionListeners.forEach((listener) => listener(connected));
}

function wsClient(): Client {
  if (client) return client;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  client = createClient({
    url,
    // The key is a connection parameter, read afresh on every (re)connection.
    connectionParams: () => authHeaders(),
    lazy: true,
    // Reconnect by itself, forever, never waiting long between tries.
    retryAttempts: Number.POSITIVE_INFINITY,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, reconnectDelay(retries))),
    shouldRetry: () => true,
    on: {
      connected: () => connectionChanged(true),
      closed: () => connectionChanged(false),
    },
  });
  return client;
}

function resetSubscriptions(): void {
  void client?.dispose();
  client = undefined;
}

/** Subscribes to a GraphQL subscription; returns the function that ends it. */
export function subscribe<T>(
  document: string,
  variables: Record<string, unknown>,
  next: (data: T) => void,
): () => void {
  return wsClient().subscribe<T>(
    { query: document, variables },
    {
      next: (result) => result.data && next(result.data as T),
      error: (error) => console.warn('subscription error', error),
      complete: () => undefined,
    },
  );
}

/** Uploads a dataset through the REST route with progress (fetch has no upload progress; XMLHttpRequest does). */
export function uploadDataset(
  file: File,
  name: string,
  onProgress: (fraction: number) => void,
): Promise<{ id: string; name: string }> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('name', name);
    form.append('file', file);
    const request = new XMLHttpRequest();
    request.open('POST', '/v1/datasets');
    const keySent = apiKey();
    for (const [header, value] of Object.entries(authHeaders())) request.setRequestHeader(header, value);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onerror = () => reject(new Error('the upload failed: network error'));
    request.onload = () => {
      let body: { id?: string; name?: string; message?: string } = {};
      try {
        body = JSON.parse(request.responseText);
      } catch {
        /* not JSON: reported below by status */
      }
      if (request.status === 401) {
        reject(refused(keySent, body.message ?? 'a key is needed'));
      } else if (request.status >= 200 && request.status < 300 && body.id) {
        onProgress(1);
        resolve(body as { id: string; name: string });
      } else reject(new Error(body.message ?? `the upload failed with status ${request.status}`));
    };
    request.send(form);
  });
}

/** Downloads a checkpoint file with the key as a header (a plain link could not carry it) and saves it. */
export async function downloadWithKey(url: string, filename: string): Promise<void> {
  const response = await fetch(url, { headers: authHeaders() });
  if (!response.ok) throw new Error(`download failed: ${response.status}`);
  const href = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = href;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(href), 1000);
}
