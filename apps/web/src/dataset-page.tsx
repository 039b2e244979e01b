import DATASET from './graphql/dataset.graphql';
import { Fact } from './run-page';
import type { Dataset } from './types';
import { Card, ErrorBox, Link, StatusBadge, formatBytes, formatDate, formatNumber, useQuery } from './ui';

export function DatasetPage(props: { id: string }) {
  const query = useQuery<{ dataset: Dataset | null }>(DATASET, { id: props.id });
  const dataset = query.data?.dataset;
  if (query.error) return <ErrorBox message={query.error} />;
  if (!dataset) return <div class="muted">{query.loading ? 'loading…' : 'no such dataset'}</div>;
  const rows = dataset.rowCount ?? 0;
  return (
    <div class="page">
      <header class="page-head">
        <h1>
          Dataset {dataset.name} <StatusBadge status={dataset.status} />
        </h1>
        <span class="spacer" />
        <Link class="button primary" href={`/ui/runs/new?dataset=${dataset.id}`}>Start a run on it</Link>
      </header>
      <ErrorBox message={dataset.error ?? undefined} />
      <div class="facts">
        <Fact label="format" value={dataset.format} />
        <Fact label="rows" value={formatNumber(dataset.rowCount)} />
        <Fact label="columns" value={dataset.columns?.length ?? 0} />
        <Fact label="size" value={formatBytes(dataset.sizeBytes)} />
        <Fact label="uploaded" value={formatDate(dataset.createdAt)} />
      </div>
      <Card title="Columns">
        <table class="table" aria-label="columns">
          <thead>
            <tr>
              <th>name</th>
              <th>type</th>
              <th>missing</th>
              <th>distinct</th>
              <th>min</th>
              <th>max</th>
              <th>mean</th>
              <th>range</th>
            </tr>
          </thead>
          <tbody>
            {(dataset.columns ?? []).map((column) => (
              <tr>
                <td>
                  <strong>{column.name}</strong>
                </td>
                <td>
                  <span class={`type type-${column.type.toLowerCase()}`}>{column.type}</span>
                </td>
                <td>
                  {column.missing}
                  {rows > 0 && column.missing > 0 && <span class="muted"> ({((100 * column.missing) / rows).toFixed(1)}%)</span>}
                </td>
                <td>{formatNumber(column.distinct)}</td>
                <td>{formatNumber(column.min)}</td>
                <td>{formatNumber(column.max)}</td>
                <td>{formatNumber(column.mean)}</td>
                <td>
                  <MeanInRange min={column.min} max={column.max} mean={column.mean} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}

/** Where the mean sits between min and max: a glance at skew, from the statistics the API already has. */
function MeanInRange(props: { min: number | null; max: number | null; mean: number | null }) {
  if (props.min === null || props.max === null || props.mean === null || props.max <= props.min) return null;
  const at = ((props.mean - props.min) / (props.max - props.min)) * 100;
  return (
    <div class="range" title={`mean at ${at.toFixed(0)}% of the range`}>
      <div class="range-mark" style={{ left: `${at}%` }} />
    </div>
  );
}
