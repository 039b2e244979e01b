import type { Server as HttpServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { getOperationAST } from 'graphql';
import { CloseCode, type Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';

import { AppErrorCode } from '#libs/core/errors';

import { ApiKeysService } from '../modules/auth/api-keys.service.js';
import { type Principal, roleAllows, roleForOperation } from '../modules/auth/roles.js';
import { graphqlError, internalError } from './client-errors.js';
import { parseDocument, validateDocument } from './graphql-limits.js';

const PATH = '/graphql';
/** An authenticated socket's messages are capped like HTTP JSON bodies (see main.ts). */
export const MAX_SOCKET_PAYLOAD = 16 * 1024 * 1024;
/** Before `connection_init` is accepted a socket may send only this much: enough for a key and a few parameters. */
export const MAX_UNAUTHENTICATED_PAYLOAD = 64 * 1024;
/** Open sockets per client address; a browser tab needs one. */
export const MAX_SOCKETS_PER_CLIENT = 32;
/** A socket that does not authenticate within this time is closed. */
const CONNECTION_INIT_TIMEOUT_MS = 5_000;
/**
 * The WebSocket close code "Try Again Later": the key could not be checked (the database is down), which is not the
 * client's fault; graphql-ws clients retry on it, where a 4xxx code would end them for good.
 */
const TRY_AGAIN_LATER = 1013;

interface SocketExtra extends Record<PropertyKey, unknown> {
  socket: WebSocket;
  request: IncomingMessage;
  principal?: Principal;
  forget?: () => void;
}

/** ws keeps its per-socket limit in the receiver; it is read on every frame, so raising it after login takes effect. */
function setMaxPayload(socket: WebSocket, bytes: number): void {
  const receiver = (socket as unknown as { _receiver?: { _maxPayload: number } })._receiver;
  if (receiver && typeof receiver._maxPayload === 'number') receiver._maxPayload = bytes;
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * GraphQL over graphql-ws at /graphql, served here rather than by @nestjs/graphql so that its limits are ours:
 * payloads capped (far lower before authentication), sockets bounded per client, the key checked at connect
 * and again for every operation (a revoked key's sockets are closed by ApiKeysService.revoke), each operation's
 * fields checked against the key's role, and the same parse and validation (depth, cost, aliases) as HTTP.
 */
@Injectable()
export class GraphqlWsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('GraphqlWs');
  private readonly socketsByClient = new Map<string, number>();
  private wss: WebSocketServer | undefined;
  private disposable: { dispose(): void | Promise<void> } | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly schemaHost: GraphQLSchemaHost,
    private readonly keys: ApiKeysService,
  ) {}

  onApplicationBootstrap(): void {
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_SOCKET_PAYLOAD });
    this.wss = wss;
    this.disposable = useServer<Record<string, unknown> | undefined, SocketExtra>(
      {
        schema: this.schemaHost.schema,
        connectionInitWaitTimeout: CONNECTION_INIT_TIMEOUT_MS,
        onConnect: (context) => this.onConnect(context),
        onSubscribe: (context, _id, payload) => this.onSubscribe(context, payload),
        onClose: (context) => context.extra.forget?.(),
      },
      wss,
    );
    const server = this.adapterHost.httpAdapter.getHttpServer() as HttpServer;
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(request, socket, head),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.disposable?.dispose();
    this.wss?.close();
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if ((request.url ?? '').split('?')[0] !== PATH) return refuseUpgrade(socket, 404, 'Not Found');
    const client = request.socket.remoteAddress ?? 'unknown';
    const open = this.socketsByClient.get(client) ?? 0;
    if (open >= MAX_SOCKETS_PER_CLIENT) return refuseUpgrade(socket, 429, 'Too Many Requests');
    this.socketsByClient.set(client, open + 1);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      const left = (this.socketsByClient.get(client) ?? 1) - 1;
      if (left > 0) this.socketsByClient.set(client, left);
      else this.socketsByClient.delete(client);
    };
    socket.once('close', release);
    this.wss!.handleUpgrade(request, socket, head, (ws) => {
      setMaxPayload(ws, MAX_UNAUTHENTICATED_PAYLOAD);
      ws.once('close', release);
      this.wss!.emit('connection', ws, request);
    });
  }

  private async onConnect(context: Context<Record<string, unknown> | undefined, SocketExtra>): Promise<boolean> {
    // The key, once: as a connection parameter or on the upgrade request.
    const params = context.connectionParams;
    const header = params?.Authorization ?? params?.authorization ?? context.extra.request.headers.authorization;
    const { socket } = context.extra;
    const principal = await this.checkKey(socket, () => this.keys.authenticate(header));
    // undefined: the check failed and the socket is already closing with TRY_AGAIN_LATER (graphql-ws's own close
    // that follows is then a no-op).
    if (!principal) return false;
    context.extra.principal = principal;
    context.extra.forget = this.keys.trackSocket(principal, (code, reason) => socket.close(code, reason));
    setMaxPayload(socket, MAX_SOCKET_PAYLOAD);
    return true;
  }

  private async onSubscribe(
    context: Context<Record<string, unknown> | undefined, SocketExtra>,
    payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
  ) {
    const { principal, socket } = context.extra;
    const active = principal ? await this.checkKey(socket, () => this.keys.stillActive(principal)) : false;
    if (active === undefined) {
      return [graphqlError(AppErrorCode.Internal, 'the API key could not be checked: try again later')];
    }
    if (!principal || !active) {
      socket.close(CloseCode.Forbidden, 'Forbidden: the API key was revoked');
      return [graphqlError(AppErrorCode.Unauthenticated, 'the API key was revoked')];
    }
    let document;
    try {
      document = parseDocument(payload.query);
    } catch (error) {
      return [graphqlError(AppErrorCode.BadUserInput, error instanceof Error ? error.message : String(error))];
    }
    const schema = this.schemaHost.schema;
    const variables = payload.variables ?? undefined;
    const errors = validateDocument(schema, document, variables, payload.operationName);
    if (errors.length > 0)
      return errors.map((error) => graphqlError(AppErrorCode.BadUserInput, error.message, { nodes: error.nodes }));
    const operation = getOperationAST(document, payload.operationName);
    if (operation && this.keys.enabled) {
      // Checked here too (the roles guard checks resolvers), so a refused mutation never starts on a socket.
      for (const selection of operation.selectionSet.selections) {
        if (selection.kind !== 'Field') continue;
        const need = roleForOperation(operation.operation, selection.name.value);
        if (!roleAllows(principal.role, need)) {
          const message = `this key's role (${principal.role}) may not run ${selection.name.value}: it needs ${need}`;
          return [graphqlError(AppErrorCode.Forbidden, message)];
        }
      }
    }
    return {
      schema,
      document,
      variableValues: variables,
      operationName: payload.operationName,
      contextValue: { principal, extra: context.extra },
    };
  }

  /**
   * A key lookup, or undefined when it failed (the database is down): the failure is logged under an error id and
   * the socket closed with TRY_AGAIN_LATER, the id in its reason.
   */
  private async checkKey<T>(socket: WebSocket, lookup: () => Promise<T>): Promise<T | undefined> {
    try {
      return await lookup();
    } catch (error) {
      const { message } = internalError(error, 'a graphql-ws key check');
      socket.close(TRY_AGAIN_LATER, `Try Again Later: ${message}`);
      return undefined;
    }
  }
}
