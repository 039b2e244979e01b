/** @jsxImportSource react */
import 'graphiql/style.css';

import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createRoot } from 'react-dom/client';

/**
 * GraphiQL on the served schema, bundled here (no CDN). The dashboard's key, when this tab has one, goes as an
 * Authorization header on HTTP and as the graphql-ws connection parameter; it is never put in the URL.
 */
const key = sessionStorage.getItem('trainer.apiKey');
const headers: Record<string, string> = key ? { Authorization: `Bearer ${key}` } : {};
const fetcher = createGraphiQLFetcher({
  url: `${location.origin}/graphql`,
  subscriptionUrl: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
  headers,
  wsConnectionParams: headers,
});

createRoot(document.getElementById('graphiql')!).render(
  <GraphiQL
    fetcher={fetcher}
    defaultEditorToolsVisibility="headers"
    headers={key ? JSON.stringify(headers, null, 2) : undefined}
  />,
);
