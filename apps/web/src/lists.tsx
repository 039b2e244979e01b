import { useState } from 'preact/hooks';

import DATASETS from './graphql/datasets.graphql';
import MODELS from './graphql/models.graphql';
import RUNS from './graphql/runs.graphql';
import SWEEPS from './graphql/sweeps.graphql';
import type { Dataset, Model, RunListItem, SweepListItem } from './types';
import {
  Card,
  ErrorBox,
  formatBytes,
  formatDate,
  formatNumber,
  Json,
  Link,
  navigate,
  StatusBadge,
  usePages,
  VirtualTable,
} from './ui';

const RUN_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'PRUNED'];

function counted(shown: number, total: number | null, noun: string): string {
  return total === null
    ? ''
    : shown < total
      ? `${shown.toLocaleString('en')} of ${total.toLocaleString('en')} ${noun}`
      : `${total.toLocaleString('en')} ${noun}`;
}

function mainMetric(summary: Record<string, number> | null): string {
  if (!summary) return '–';
  const name = ['val_accuracy', 'val_loss', 'accuracy', 'loss'].find((candidate) => candidate in summary);
  return name ? `${name} ${formatNumber(summary[name])}` : '–';
}

export function RunsPage() {
  const [status, setStatus] = useState('');
  // Kept live: runs change status and new ones start while the list is open.
  const runs = usePages<RunListItem>(RUNS, 'runsPage', status ? { status } : {}, { live: true });
  const rows = runs.rows;
  return (
    <Card title="Runs">
      <div class="toolbar">
        <label>
          status{' '}
          <select
            value={status}
            onChange={(event) => setStatus((event.target as HTMLSelectElement).value)}
            name="status"
          >
            <option value="">all</option>
            {RUN_STATUSES.map((value) => (
              <option value={value}>{value.toLowerCase()}</option>
            ))}
          </select>
        </label>
        <span class="muted">{counted(rows.length, runs.total, 'runs')}</span>
        <span class="spacer" />
        <button onClick={runs.reload}>refresh</button>
        <Link class="button primary" href="/ui/runs/new">
          Start a run
        </Link>
      </div>
      <ErrorBox message={runs.error} />
      <VirtualTable
        label="runs"
        rows={rows}
        onNearEnd={runs.loadMore}
        rowKey={(run) => run.id}
        onRowClick={(run) => navigate(`/ui/runs/${run.id}`)}
        columns={[
          {
            title: 'run',
            width: '110px',
            render: (run) => <Link href={`/ui/runs/${run.id}`}>{run.id.slice(0, 8)}</Link>,
          },
          {
            title: 'status',
            width: '130px',
            render: (run) => <StatusBadge status={run.status} />,
            sortValue: (run) => run.status,
          },
          { title: 'model', render: (run) => `${run.model.name} v${run.model.version}` },
          { title: 'dataset', render: (run) => run.dataset.name },
          {
            title: 'sweep',
            render: (run) => (run.sweep ? <Link href={`/ui/sweeps/${run.sweep.id}`}>{run.sweep.name}</Link> : '–'),
          },
          {
            title: 'epochs',
            width: '70px',
            render: (run) => run.epochsCompleted,
            sortValue: (run) => run.epochsCompleted,
          },
          { title: 'result', render: (run) => mainMetric(run.summary) },
          {
            title: 'created',
            width: '175px',
            render: (run) => formatDate(run.createdAt),
            sortValue: (run) => run.createdAt,
          },
        ]}
      />
    </Card>
  );
}

export function DatasetsPage() {
  const datasets = usePages<Dataset>(DATASETS, 'datasetsPage');
  const rows = datasets.rows;
  return (
    <Card title="Datasets">
      <div class="toolbar">
        <span class="muted">{counted(rows.length, datasets.total, 'datasets')}</span>
        <span class="spacer" />
        <Link class="button primary" href="/ui/datasets/new">
          Upload a dataset
        </Link>
      </div>
      <ErrorBox message={datasets.error} />
      <VirtualTable
        label="datasets"
        rows={rows}
        onNearEnd={datasets.loadMore}
        rowKey={(dataset) => dataset.id}
        onRowClick={(dataset) => navigate(`/ui/datasets/${dataset.id}`)}
        columns={[
          {
            title: 'name',
            render: (dataset) => <Link href={`/ui/datasets/${dataset.id}`}>{dataset.name}</Link>,
            sortValue: (d) => d.name,
          },
          { title: 'format', width: '80px', render: (dataset) => dataset.format },
          { title: 'status', width: '110px', render: (dataset) => <StatusBadge status={dataset.status} /> },
          {
            title: 'rows',
            width: '90px',
            render: (dataset) => formatNumber(dataset.rowCount),
            sortValue: (d) => d.rowCount,
          },
          {
            title: 'size',
            width: '90px',
            render: (dataset) => formatBytes(dataset.sizeBytes),
            sortValue: (d) => d.sizeBytes,
          },
          {
            title: 'created',
            width: '175px',
            render: (dataset) => formatDate(dataset.createdAt),
            sortValue: (d) => d.createdAt,
          },
        ]}
      />
    </Card>
  );
}

export function ModelsPage() {
  const models = usePages<Model>(MODELS, 'modelsPage');
  const [open, setOpen] = useState<string | null>(null);
  const rows = models.rows;
  const shown = rows.find((model) => model.id === open);
  return (
    <Card title="Models">
      <div class="toolbar">
        <span class="muted">{counted(rows.length, models.total, 'model versions')}</span>
        <span class="spacer" />
        <Link class="button primary" href="/ui/models/new">
          Create a model
        </Link>
      </div>
      <ErrorBox message={models.error} />
      <VirtualTable
        label="models"
        rows={rows}
        onNearEnd={models.loadMore}
        rowKey={(model) => model.id}
        onRowClick={(model) => setOpen(model.id === open ? null : model.id)}
        columns={[
          { title: 'name', render: (model) => model.name, sortValue: (model) => model.name },
          { title: 'version', width: '80px', render: (model) => model.version },
          {
            title: 'layers',
            width: '80px',
            render: (model) => (model.spec as { layers?: unknown[] }).layers?.length ?? '–',
          },
          {
            title: 'created',
            width: '175px',
            render: (model) => formatDate(model.createdAt),
            sortValue: (m) => m.createdAt,
          },
        ]}
      />
      {shown && (
        <div>
          <h3>
            {shown.name} v{shown.version}
          </h3>
          <Json value={shown.spec} />
        </div>
      )}
    </Card>
  );
}

export function SweepsPage() {
  const sweeps = usePages<SweepListItem>(SWEEPS, 'sweepsPage', {}, { live: true });
  const rows = sweeps.rows;
  return (
    <Card title="Sweeps">
      <div class="toolbar">
        <span class="muted">{counted(rows.length, sweeps.total, 'sweeps')}</span>
        <span class="spacer" />
        <Link class="button primary" href="/ui/sweeps/new">
          Start a sweep
        </Link>
      </div>
      <ErrorBox message={sweeps.error} />
      <VirtualTable
        label="sweeps"
        rows={rows}
        onNearEnd={sweeps.loadMore}
        rowKey={(sweep) => sweep.id}
        onRowClick={(sweep) => navigate(`/ui/sweeps/${sweep.id}`)}
        columns={[
          {
            title: 'name',
            render: (sweep) => <Link href={`/ui/sweeps/${sweep.id}`}>{sweep.name}</Link>,
            sortValue: (s) => s.name,
          },
          { title: 'status', width: '110px', render: (sweep) => <StatusBadge status={sweep.status} /> },
          { title: 'strategy', width: '100px', render: (sweep) => sweep.strategy },
          { title: 'objective', render: (sweep) => `${sweep.objective.goal.toLowerCase()} ${sweep.objective.metric}` },
          { title: 'trials', width: '70px', render: (sweep) => sweep.maxTrials },
          {
            title: 'created',
            width: '175px',
            render: (sweep) => formatDate(sweep.createdAt),
            sortValue: (s) => s.createdAt,
          },
        ]}
      />
    </Card>
  );
}
