import { useEffect, useState } from 'preact/hooks';

import { gql, uploadDataset } from './api';
import { EXAMPLE_SPACE, EXAMPLE_SPEC } from './examples';
import CREATE_MODEL from './graphql/create-model.graphql';
import CREATE_SWEEP from './graphql/create-sweep.graphql';
import DATASET from './graphql/dataset.graphql';
import DATASETS from './graphql/datasets.graphql';
import MODELS from './graphql/models.graphql';
import START_RUN from './graphql/start-run.graphql';
import type { Dataset, Model } from './types';
import { Card, ErrorBox, navigate, usePages } from './ui';

/**
 * A form's submit: runs `action` and shows what went wrong (a field that is not JSON, the API's refusal) in the form;
 * the error of the previous try is cleared first.
 */
function useSubmit(action: () => Promise<void>): { error: string | undefined; submit: (event: Event) => void } {
  const [error, setError] = useState<string>();
  const submit = (event: Event) => {
    event.preventDefault();
    setError(undefined);
    action().catch((failure: unknown) => setError((failure as Error).message));
  };
  return { error, submit };
}

function NameField(props: { value: string; onInput: (name: string) => void }) {
  return (
    <label>
      name
      <input
        name="name"
        required
        value={props.value}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
    </label>
  );
}

export function UploadDatasetForm() {
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const { error, submit } = useSubmit(async () => {
    if (!file) throw new Error('choose a file first');
    setProgress(0);
    try {
      const dataset = await uploadDataset(file, name || file.name.replace(/\.[^.]+$/, ''), setProgress);
      navigate(`/ui/datasets/${dataset.id}`);
    } catch (failure) {
      setProgress(null);
      throw failure;
    }
  });
  return (
    <Card title="Upload a dataset">
      <form class="form" onSubmit={submit}>
        <label>
          file (CSV, JSON Lines{', Parquet or a ZIP of images where the API takes them'})
          <input
            type="file"
            name="file"
            onChange={(event) => setFile((event.target as HTMLInputElement).files?.[0] ?? null)}
          />
        </label>
        <label>
          name
          <input
            name="name"
            value={name}
            placeholder={file?.name ?? 'my-dataset'}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </label>
        {progress !== null && (
          <div class="progress" role="progressbar" aria-valuenow={Math.round(progress * 100)}>
            <div style={{ width: `${progress * 100}%` }} />
            <span>{progress < 1 ? `uploading ${(progress * 100).toFixed(0)}%` : 'analysing columns…'}</span>
          </div>
        )}
        <ErrorBox message={error} />
        <button class="primary" type="submit" disabled={progress !== null}>
          Upload
        </button>
      </form>
    </Card>
  );
}

/** A labelled JSON editor (a model spec, hyperparameters, a search space, a training config). */
function JsonField(props: {
  label: string;
  name: string;
  rows: number;
  value: string;
  onInput: (text: string) => void;
}) {
  return (
    <label>
      {props.label}
      <textarea
        name={props.name}
        class="code"
        rows={props.rows}
        spellcheck={false}
        value={props.value}
        onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)}
      />
    </label>
  );
}

/** Parses a JSON field of a form, naming the field when it does not parse. */
function parseJson(field: string, text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${field} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

export function CreateModelForm() {
  const [name, setName] = useState('');
  const [spec, setSpec] = useState(JSON.stringify(EXAMPLE_SPEC, null, 2));
  const [created, setCreated] = useState<string>();
  const { error, submit } = useSubmit(async () => {
    const data = await gql<{ createModel: { id: string; name: string; version: number } }>(CREATE_MODEL, {
      input: { name, spec: parseJson('the spec', spec) },
    });
    setCreated(`created ${data.createModel.name} v${data.createModel.version}`);
    navigate(`/ui/runs/new?model=${data.createModel.id}`);
  });
  return (
    <Card title="Create a model">
      <form class="form" onSubmit={submit}>
        <NameField value={name} onInput={setName} />
        <JsonField
          label={'spec (JSON; "$name" values are filled from each run\'s hyperparameters)'}
          name="spec"
          rows={16}
          value={spec}
          onInput={setSpec}
        />
        <ErrorBox message={error} />
        {created && <div class="ok">{created}</div>}
        <button class="primary" type="submit">
          Create model
        </button>
      </form>
    </Card>
  );
}

function useChoices() {
  // The newest page of each is what a picker offers (the API pages newest first).
  const datasets = usePages<Dataset>(DATASETS, 'datasetsPage');
  const models = usePages<Model>(MODELS, 'modelsPage');
  return {
    datasets: datasets.rows.filter((dataset) => dataset.status === 'READY'),
    models: models.rows,
    error: datasets.error ?? models.error,
  };
}

/** The dataset and model pickers, with a training config whose target defaults to the dataset's last column. */
function useRunBasics() {
  const params = new URLSearchParams(location.search);
  const choices = useChoices();
  const [datasetId, setDatasetId] = useState(params.get('dataset') ?? '');
  const [modelId, setModelId] = useState(params.get('model') ?? '');
  const [training, setTraining] = useState('');
  useEffect(() => {
    if (!datasetId && choices.datasets[0]) setDatasetId(choices.datasets[0].id);
    if (!modelId && choices.models[0]) setModelId(choices.models[0].id);
  }, [choices.datasets.length, choices.models.length]);
  useEffect(() => {
    if (!datasetId) return;
    void gql<{ dataset: Dataset | null }>(DATASET, { id: datasetId }).then((data) => {
      const columns = data.dataset?.columns ?? [];
      const target =
        columns.find((column) => /species|label|class|target|y$/i.test(column.name)) ?? columns[columns.length - 1];
      setTraining(
        JSON.stringify(
          { target: target?.name ?? '', epochs: 20, batchSize: 32, validationSplit: 0.2, seed: 7 },
          null,
          2,
        ),
      );
    });
  }, [datasetId]);
  const pickers = (
    <>
      <label>
        dataset
        <select name="dataset" value={datasetId} onChange={(e) => setDatasetId((e.target as HTMLSelectElement).value)}>
          {choices.datasets.map((dataset) => (
            <option value={dataset.id}>{dataset.name}</option>
          ))}
        </select>
      </label>
      <label>
        model
        <select name="model" value={modelId} onChange={(e) => setModelId((e.target as HTMLSelectElement).value)}>
          {choices.models.map((model) => (
            <option value={model.id}>
              {model.name} v{model.version}
            </option>
          ))}
        </select>
      </label>
    </>
  );
  /** The end of the run and sweep forms: the training config, the form's error (or the pickers'), the submit. */
  const footer = (rows: number, formError: string | undefined, submitLabel: string) => (
    <>
      <JsonField label="training config (JSON)" name="training" rows={rows} value={training} onInput={setTraining} />
      <ErrorBox message={formError ?? choices.error} />
      <button class="primary" type="submit">
        {submitLabel}
      </button>
    </>
  );
  return { datasetId, modelId, training, pickers, footer };
}

export function StartRunForm() {
  const basics = useRunBasics();
  const [hyperparameters, setHyperparameters] = useState('{\n  "hidden": 16,\n  "lr": 0.02\n}');
  const { error, submit } = useSubmit(async () => {
    const input = {
      datasetId: basics.datasetId,
      modelId: basics.modelId,
      hyperparameters: parseJson('hyperparameters', hyperparameters),
      training: parseJson('the training config', basics.training),
    };
    const data = await gql<{ startRun: { id: string } }>(START_RUN, { input });
    navigate(`/ui/runs/${data.startRun.id}`);
  });
  return (
    <Card title="Start a run">
      <form class="form" onSubmit={submit}>
        {basics.pickers}
        <JsonField
          label="hyperparameters (JSON)"
          name="hyperparameters"
          rows={5}
          value={hyperparameters}
          onInput={setHyperparameters}
        />
        {basics.footer(9, error, 'Start run')}
      </form>
    </Card>
  );
}

export function StartSweepForm() {
  const basics = useRunBasics();
  const [name, setName] = useState('');
  const [strategy, setStrategy] = useState('TPE');
  const [space, setSpace] = useState(JSON.stringify(EXAMPLE_SPACE, null, 2));
  const [metric, setMetric] = useState('val_loss');
  const [goal, setGoal] = useState('MINIMIZE');
  const [maxTrials, setMaxTrials] = useState(20);
  const [parallelism, setParallelism] = useState(2);
  const { error, submit } = useSubmit(async () => {
    const input = {
      name,
      datasetId: basics.datasetId,
      modelId: basics.modelId,
      strategy,
      searchSpace: parseJson('the search space', space),
      objective: { metric, goal },
      maxTrials,
      parallelism,
      training: parseJson('the training config', basics.training),
    };
    const data = await gql<{ createSweep: { id: string } }>(CREATE_SWEEP, { input });
    navigate(`/ui/sweeps/${data.createSweep.id}`);
  });
  const setNumber = (set: (value: number) => void) => (e: Event) => set(Number((e.target as HTMLInputElement).value));
  return (
    <Card title="Start a sweep">
      <form class="form" onSubmit={submit}>
        <NameField value={name} onInput={setName} />
        {basics.pickers}
        <div class="row">
          <label>
            strategy
            <select
              name="strategy"
              value={strategy}
              onChange={(e) => setStrategy((e.target as HTMLSelectElement).value)}
            >
              {['TPE', 'GP', 'RANDOM', 'GRID', 'HYPERBAND'].map((value) => (
                <option value={value}>{value}</option>
              ))}
            </select>
          </label>
          <label>
            objective
            <input name="metric" value={metric} onInput={(e) => setMetric((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            goal
            <select name="goal" value={goal} onChange={(e) => setGoal((e.target as HTMLSelectElement).value)}>
              <option value="MINIMIZE">minimize</option>
              <option value="MAXIMIZE">maximize</option>
            </select>
          </label>
          <label>
            trials
            <input name="maxTrials" type="number" min={1} value={maxTrials} onInput={setNumber(setMaxTrials)} />
          </label>
          <label>
            parallelism
            <input name="parallelism" type="number" min={1} value={parallelism} onInput={setNumber(setParallelism)} />
          </label>
        </div>
        <JsonField label="search space (JSON)" name="searchSpace" rows={7} value={space} onInput={setSpace} />
        {basics.footer(8, error, 'Start sweep')}
      </form>
    </Card>
  );
}
