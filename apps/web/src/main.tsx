import './style.css';

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { apiKey, gql, onUnauthenticated, setApiKey } from './api';
import { DatasetPage } from './dataset-page';
import { CreateModelForm, StartRunForm, StartSweepForm, UploadDatasetForm } from './forms';
import { DatasetsPage, ModelsPage, RunsPage, SweepsPage } from './lists';
import { RunPage } from './run-page';
import { SweepPage } from './sweep-page';
import { Link, usePath } from './ui';

function route(path: string) {
  const parts = path.replace(/\/+$/, '').split('/').filter(Boolean);
  if (parts.length === 0) return <RunsPage />;
  if (parts[0] !== 'ui') return <div class="muted">no page at {path}</div>;
  const [, kind, id] = parts;
  if (kind === 'datasets')
    return id === 'new' ? <UploadDatasetForm /> : id ? <DatasetPage id={id} key={id} /> : <DatasetsPage />;
  if (kind === 'models') return id === 'new' ? <CreateModelForm /> : <ModelsPage />;
  if (kind === 'runs') return id === 'new' ? <StartRunForm /> : id ? <RunPage id={id} key={id} /> : <RunsPage />;
  if (kind === 'sweeps')
    return id === 'new' ? <StartSweepForm /> : id ? <SweepPage id={id} key={id} /> : <SweepsPage />;
  return <div class="muted">no page at {path}</div>;
}

/** Asks for the API key when the server wants one; it is kept in this tab's sessionStorage only. */
function KeyPrompt(props: { onDone: () => void; wrong: boolean }) {
  const [key, setKey] = useState('');
  return (
    <div class="overlay">
      <form
        class="card form key-form"
        onSubmit={(event) => {
          event.preventDefault();
          setApiKey(key.trim());
          props.onDone();
        }}
      >
        <h2>This service needs an API key</h2>
        <p class="muted">It is kept in this tab only (sessionStorage) and sent as an Authorization header.</p>
        {props.wrong && <div class="error">that key was refused</div>}
        <input
          name="apiKey"
          type="password"
          autocomplete="off"
          placeholder="API key"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
        <button class="primary" type="submit">
          Continue
        </button>
      </form>
    </div>
  );
}

const NAV = [
  ['/ui/runs', 'Runs'],
  ['/ui/sweeps', 'Sweeps'],
  ['/ui/datasets', 'Datasets'],
  ['/ui/models', 'Models'],
];

function App() {
  const path = usePath();
  const [needKey, setNeedKey] = useState<'no' | 'ask' | 'wrong'>('no');
  const [generation, setGeneration] = useState(0);
  useEffect(() => onUnauthenticated(() => setNeedKey(apiKey() ? 'wrong' : 'ask')), []);
  // One cheap query up front tells whether a key is needed before any page shows an error.
  useEffect(() => {
    gql('{ __typename }').catch(() => undefined);
  }, [generation]);
  const section = path === '/' ? '/ui/runs' : `/${path.split('/').slice(1, 3).join('/')}`;
  return (
    <>
      <nav class="top">
        <Link href="/" class="brand">
          ◆ trainer
        </Link>
        {NAV.map(([href, label]) => (
          <Link href={href} class={section === href ? 'active' : ''}>
            {label}
          </Link>
        ))}
        <span class="spacer" />
        <a href="/graphql" target="_blank" rel="noopener">
          GraphiQL
        </a>
        {apiKey() && (
          <button
            class="link"
            onClick={() => {
              setApiKey(null);
              setNeedKey('ask');
            }}
          >
            forget key
          </button>
        )}
      </nav>
      <main key={`${path}#${generation}`}>{needKey === 'no' && route(path)}</main>
      {needKey !== 'no' && (
        <KeyPrompt
          wrong={needKey === 'wrong'}
          onDone={() => {
            setNeedKey('no');
            setGeneration((value) => value + 1);
          }}
        />
      )}
    </>
  );
}

render(<App />, document.getElementById('app')!);
