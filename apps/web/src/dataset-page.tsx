import { EChart, PALETTE } from './charts';
import DATASET from './graphql/dataset.graphql';
import DATASET_HISTOGRAMS from './graphql/dataset-histograms.graphql';
import DATASET_IMAGES from './graphql/dataset-images.graphql';
import { Fact } from './run-page';
import type { Dataset } from './types';
import { Card, ErrorBox, formatBytes, formatDate, formatNumber, Link, StatusBadge, useQuery } from './ui';

export function DatasetPage(props: { id: string }) {
  const query = useQuery<{ dataset: Dataset | null }>(DATASET, { id: props.id });
  const dataset = query.data?.dataset;
  const histograms = useQuery<{ dataset: { histograms: Record<string, Histogram> | null } | null }>(
    DATASET_HISTOGRAMS,
    { id: props.id },
  );
  const histogramOf = (name: string) => histograms.data?.dataset?.histograms?.[name];
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
        <Link class="button primary" href={`/ui/runs/new?dataset=${dataset.id}`}>
          Start a run on it
        </Link>
      </header>
      <ErrorBox message={dataset.error ?? undefined} />
      {dataset.warnings && dataset.warnings.length > 0 && (
        <Card title={`Warnings (${dataset.warnings.length})`} class="warnings">
          <ul>
            {dataset.warnings.map((warning) => (
              <li>{warning}</li>
            ))}
          </ul>
        </Card>
      )}
      <div class="facts">
        <Fact label="format" value={dataset.format} />
        <Fact label="rows" value={formatNumber(dataset.rowCount)} />
        <Fact label="columns" value={dataset.columns?.length ?? 0} />
        <Fact label="size" value={formatBytes(dataset.sizeBytes)} />
        <Fact label="uploaded" value={formatDate(dataset.createdAt)} />
      </div>
      {dataset.format === 'images' && <ImageClasses id={dataset.id} />}
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
              <th>distribution</th>
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
                  {rows > 0 && column.missing > 0 && (
                    <span class="muted"> ({((100 * column.missing) / rows).toFixed(1)}%)</span>
                  )}
                </td>
                <td>{formatNumber(column.distinct)}</td>
                <td>{formatNumber(column.min)}</td>
                <td>{formatNumber(column.max)}</td>
                <td>{formatNumber(column.mean)}</td>
                <td>
                  <Sparkline histogram={histogramOf(column.name)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}

type Histogram =
  | { kind: 'numeric'; edges: number[]; counts: number[] }
  | { kind: 'categorical'; values: string[]; counts: number[]; other: number };

/**
 * A column's histogram as a sparkline of at most 24 bars (numbers: equal-width bins from min to max; text: the
 * most frequent values, then the rest). Plain SVG rectangles: one chart-library instance per column would be heavy
 * on a dataset of hundreds of columns, and a row of bars needs no axes or interaction.
 */
function Sparkline(props: { histogram?: Histogram }) {
  const histogram = props.histogram;
  if (!histogram) return null;
  const counts =
    histogram.kind === 'categorical' && histogram.other > 0 ? [...histogram.counts, histogram.other] : histogram.counts;
  const labels =
    histogram.kind === 'numeric'
      ? counts.map((_, i) => `${formatNumber(histogram.edges[i], 3)} – ${formatNumber(histogram.edges[i + 1], 3)}`)
      : [...histogram.values, 'other'];
  const largest = Math.max(1, ...counts);
  const width = 160;
  const height = 28;
  const bar = width / counts.length;
  return (
    <svg class="sparkline" width={width} height={height} role="img" aria-label="histogram" data-bars={counts.length}>
      {counts.map((count, i) => {
        const h = Math.max(count > 0 ? 1 : 0, (count / largest) * height);
        return (
          <rect x={i * bar + 0.5} y={height - h} width={Math.max(1, bar - 1)} height={h} class={histogram.kind}>
            <title>{`${labels[i]}: ${count}`}</title>
          </rect>
        );
      })}
    </svg>
  );
}

interface ImageSamples {
  classes: { label: string; count: number }[];
  samples: { label: string; file: string; thumbnail: string }[];
}

/** An images dataset: how many images each class holds, and the first few of each as thumbnails. */
function ImageClasses(props: { id: string }) {
  const query = useQuery<{ dataset: { imageSamples: ImageSamples | null } | null }>(DATASET_IMAGES, { id: props.id });
  const images = query.data?.dataset?.imageSamples;
  if (query.error) return <ErrorBox message={query.error} />;
  if (!images) return <div class="muted">{query.loading ? 'reading the images…' : ''}</div>;
  const option = {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 50, right: 20, top: 10, bottom: 40 },
    xAxis: {
      type: 'category',
      data: images.classes.map((entry) => entry.label),
      axisLabel: { interval: 0, rotate: images.classes.length > 12 ? 45 : 0 },
    },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', data: images.classes.map((entry) => entry.count), itemStyle: { color: PALETTE[0] } }],
  };
  return (
    <div class="two">
      <EChart title="images per class" option={option} height={240} />
      <Card title="Samples">
        <div class="thumbnails" aria-label="samples">
          {images.samples.map((sample) => (
            <figure title={`${sample.file} (${sample.label})`}>
              <img src={sample.thumbnail} alt={`${sample.label}: ${sample.file}`} />
              <figcaption>{sample.label}</figcaption>
            </figure>
          ))}
        </div>
      </Card>
    </div>
  );
}
