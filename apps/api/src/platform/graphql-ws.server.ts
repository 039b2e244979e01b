import type { Server as HttpServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { getOperationAST, GraphQLError } from 'graphql';
import { CloseCode, type Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';

import { ApiKeysService } from '../modules/auth/api-keys.service.js';
import { type Principal, roleAllows, roleForOperation } from '../modules/auth/roles.js';
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
    const principal = await this.keys.authenticate(header);
    if (!principal) return false;
    const { socket } = context.extra;
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
    if (!principal || !(await this.keys.stillActive(principal))) {
      socket.close(CloseCode.Forbidden, 'Forbidden: the API key was revoked');
      return [new GraphQLError('the API key was revoked', { extensions: { code: 'UNAUTHENTICATED' } })];
    }
    let document;
    try {
      document = parseDocument(payload.query);
    } catch (error) {
      return [
        new GraphQLError(error instanceof Error ? error.message : String(error), {
          extensions: { code: 'BAD_USER_INPUT' },
        }),
      ];
    }
    const schema = this.schemaHost.schema;
    const variables = payload.variables ?? undefined;
    const errors = validateDocument(schema, document, variables, payload.operationName);
    if (errors.length > 0)
      return errors.map(
        (error) => new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT' } }),
      );
    const operation = getOperationAST(document, payload.operationName);
    if (operation && this.keys.enabled) {
      // Checked here too (the roles guard checks resolvers), so a refused mutation never starts on a socket.
      for (const selection of operation.selectionSet.selections) {
        if (selection.kind !== 'Field') continue;
        const need = roleForOperation(operation.operation, selection.name.value);
        if (!roleAllows(principal.role, need)) {
          return [
            new GraphQLError(
              `this key's role (${principal.role}) may not run ${selection.name.value}: it needs ${need}`,
              { extensions: { code: 'FORBIDDEN' } },
            ),
          ];
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
}
