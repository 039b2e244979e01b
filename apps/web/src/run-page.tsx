import { useEffect, useMemo, useRef, useState } from 'preact/hooks';

import { apiKey, downloadWithKey, gql, onConnectionChange, subscribe } from './api';
import { LineChart, type Series } from './charts';
import CANCEL_RUN from './graphql/cancel-run.graphql';
import METRIC_LOGGED from './graphql/metric-logged.graphql';
import RUN from './graphql/run.graphql';
import RUN_CONFUSION from './graphql/run-confusion.graphql';
import RUN_METRICS from './graphql/run-metrics.graphql';
import RUN_UPDATED from './graphql/run-updated.graphql';
import { chartPointBudget, withAllPoints } from './series';
import type { MetricSeries, Point, Run } from './types';
import { Card, ErrorBox, formatBytes, formatDate, formatNumber, Json, Link, StatusBadge, useQuery } from './ui';

const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'PRUNED']);

/**
 * How long live points wait to be drawn together: a fast run logs dozens of points a second, and a re-render per
 * point (each redrawing every chart) would leave the page unable to keep up once the curves hold thousands.
 */
const LIVE_BATCH_MS = 150;

/** loss beside val_loss, accuracy beside val_accuracy...; the learning rate on its own. */
export function chartGroups(names: string[]): { title: string; names: string[] }[] {
  const bases = [...new Set(names.filter((name) => name !== 'lr').map((name) => name.replace(/^val_/, '')))];
  bases.sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : a.localeCompare(b)));
  return bases.map((base) => ({ title: base, names: [base, `val_${base}`].filter((name) => names.includes(name)) }));
}

export function RunPage(props: { id: string }) {
  const query = useQuery<{ run: Run | null }>(RUN, { id: props.id });
  const [run, setRun] = useState<Run | null>(null);
  const [series, setSeries] = useState<Record<string, Point[]>>({});
  const [metricsError, setMetricsError] = useState<string>();
  const [live, setLive] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [actionError, setActionError] = useState<string>();
  const reloadTimer = useRef<number | undefined>(undefined);

  // A reload that fails (the API restarting) keeps the run on the page: its curve and the "connecting" sign stay.
  useEffect(() => {
    if (query.data) setRun(query.data.run);
  }, [query.data]);

  // Metric points: the stored ones, then every new one as the worker logs it (the subscription starts first, so a
  // point logged between the two is not lost; duplicates are dropped by step). After a lost connection the
  // stored points are fetched again, so what was logged while it was down fills the gap.
  useEffect(() => {
    setSeries({});
    const fetchStored = () =>
      gql<{ run: { metrics: MetricSeries[] } | null }>(RUN_METRICS, {
        id: props.id,
        maxPoints: chartPointBudget(),
      }).then(
        (data) => {
          setMetricsError(undefined);
          setSeries((current) =>
            withAllPoints(
              current,
              (data.run?.metrics ?? []).map((one) => [one.name, one.points]),
            ),
          );
        },
        (error: Error) => setMetricsError(error.message),
      );
    let pending = new Map<string, Point[]>();
    let flushTimer: number | undefined;
    const flush = () => {
      flushTimer = undefined;
      const batch = pending;
      pending = new Map();
      setSeries((current) => withAllPoints(current, batch));
    };
    const unsubscribe = subscribe<{ metricLogged: Point & { name: string } }>(
      METRIC_LOGGED,
      { runId: props.id },
      ({ metricLogged: { name, ...point } }) => {
        const waiting = pending.get(name);
        if (waiting) waiting.push(point);
        else pending.set(name, [point]);
        flushTimer ??= window.setTimeout(flush, LIVE_BATCH_MS);
      },
    );
    void fetchStored();
    let wasLost = false;
    const stopWatching = onConnectionChange((connected) => {
      setLive(connected);
      if (!connected) wasLost = true;
      else if (wasLost) {
        wasLost = false;
        void fetchStored();
        query.reload();
      }
    });
    return () => {
      unsubscribe();
      stopWatching();
      window.clearTimeout(flushTimer);
    };
  }, [props.id]);

  useEffect(
    () =>
      subscribe<{ runUpdated: Partial<Run> }>(RUN_UPDATED, { id: props.id }, (data) => {
        setRun((current) => (current ? { ...current, ...data.runUpdated } : current));
        // Checkpoints are not in the event: fetch them again, at most once a second, and at once when it ends. A
        // pending reload is kept, not pushed back: a run logging epochs faster than that would otherwise never get one.
        const ended = FINISHED.has(String(data.runUpdated.status));
        if (reloadTimer.current !== undefined && !ended) return;
        window.clearTimeout(reloadTimer.current);
        reloadTimer.current = window.setTimeout(
          () => {
            reloadTimer.current = undefined;
            query.reload();
          },
          ended ? 0 : 1000,
        );
      }),
    [props.id],
  );

  const groups = useMemo(() => chartGroups(Object.keys(series)), [series]);
  const chartSeries = useMemo(
    () =>
      groups.map((group) => ({
        title: group.title,
        series: group.names.map(
          (name) => ({ label: name, points: series[name], dashed: name.startsWith('val_') }) as Series,
        ),
      })),
    [series, groups],
  );
  const lrSeries = useMemo(() => (series.lr ? [{ label: 'learning rate', points: series.lr }] : null), [series.lr]);

  if (!run) {
    if (query.error) return <ErrorBox message={query.error} />;
    return <div class="muted">{query.loading ? 'loading…' : 'no such run'}</div>;
  }

  const cancel = async () => {
    setConfirming(false);
    try {
      const data = await gql<{ cancelRun: { status: string } }>(CANCEL_RUN, { id: run.id });
      setRun({ ...run, status: data.cancelRun.status });
    } catch (error) {
      setActionError((error as Error).message);
    }
  };

  return (
    <div class="page">
      <header class="page-head">
        <h1>
          Run <code>{run.id.slice(0, 8)}</code> <StatusBadge status={run.status} />
        </h1>
        <span class={`live ${live && !FINISHED.has(run.status) ? 'on' : ''}`}>
          {FINISHED.has(run.status) ? 'finished' : live ? '● live' : '○ connecting'}
        </span>
        <span class="spacer" />
        {!FINISHED.has(run.status) &&
          (confirming ? (
            <span class="confirm">
              Cancel this run?{' '}
              <button class="danger" onClick={cancel}>
                Yes, cancel it
              </button>{' '}
              <button onClick={() => setConfirming(false)}>No</button>
            </span>
          ) : (
            <button class="danger" onClick={() => setConfirming(true)}>
              Cancel run
            </button>
          ))}
      </header>
      <ErrorBox
        message={actionError ?? (query.error && `could not reload the run: ${query.error}`) ?? run.error ?? undefined}
      />
      <div class="facts">
        <Fact label="device" value={run.device ?? '–'} />
        <Fact label="attempt" value={run.attempt} />
        <Fact label="epochs" value={`${run.epochsCompleted} / ${String(run.training.epochs ?? '?')}`} />
        <Fact label="model" value={<Link href="/ui/models">{`${run.model.name} v${run.model.version}`}</Link>} />
        <Fact label="dataset" value={<Link href={`/ui/datasets/${run.dataset.id}`}>{run.dataset.name}</Link>} />
        {run.sweep && <Fact label="sweep" value={<Link href={`/ui/sweeps/${run.sweep.id}`}>{run.sweep.name}</Link>} />}
        <Fact label="created" value={formatDate(run.createdAt)} />
        <Fact label="finished" value={formatDate(run.finishedAt)} />
      </div>
      {run.summary && (
        <div class="facts summary">
          {Object.entries(run.summary).map(([name, value]) => (
            <Fact label={name} value={formatNumber(value)} />
          ))}
        </div>
      )}
      <ErrorBox message={metricsError} />
      <div class="charts">
        {chartSeries.map((chart) => (
          <LineChart title={chart.title} series={chart.series} xLabel="epoch" />
        ))}
        {lrSeries && <LineChart title="learning rate" series={lrSeries} xLabel="epoch" />}
        {chartSeries.length === 0 && <div class="muted">no metrics yet: the curves appear with the first epoch</div>}
      </div>
      <div class="two">
        <Card title="Hyperparameters">
          <Json value={run.hyperparameters} />
        </Card>
        <Card title="Training config">
          <Json value={run.training} />
        </Card>
      </div>
      {run.status === 'SUCCEEDED' && <ConfusionMatrixCard runId={run.id} />}
      <Card title="Checkpoints">
        <table class="table">
          <thead>
            <tr>
              <th>epoch</th>
              <th>metrics</th>
              <th>size</th>
              <th>created</th>
              <th>download</th>
            </tr>
          </thead>
          <tbody>
            {[...run.checkpoints]
              .sort((a, b) => b.epoch - a.epoch)
              .map((checkpoint) => (
                <tr>
                  <td>
                    {checkpoint.epoch}
                    {run.bestCheckpoint?.id === checkpoint.id && <span class="badge badge-succeeded"> best</span>}
                  </td>
                  <td class="small">
                    {Object.entries(checkpoint.metrics ?? {})
                      .map(([name, value]) => `${name} ${formatNumber(value, 3)}`)
                      .join(' · ')}
                  </td>
                  <td>{formatBytes(checkpoint.sizeBytes)}</td>
                  <td>{formatDate(checkpoint.createdAt)}</td>
                  <td>
                    <Download url={checkpoint.modelUrl} name="model.json" />{' '}
                    <Download url={checkpoint.modelUrl.replace(/model\.json$/, 'weights.bin')} name="weights.bin" />
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
        {run.checkpoints.length === 0 && <div class="muted">no checkpoints yet</div>}
      </Card>
    </div>
  );
}

/** A plain link when no key is needed; with a key, a fetch that sends it as a header (never in the URL). */
function Download(props: { url: string; name: string }) {
  if (!apiKey())
    return (
      <a href={props.url} download={props.name}>
        {props.name}
      </a>
    );
  return (
    <button class="link" onClick={() => void downloadWithKey(props.url, props.name)}>
      {props.name}
    </button>
  );
}

export function Fact(props: { label: string; value: unknown }) {
  return (
    <div class="fact">
      <div class="fact-label">{props.label}</div>
      <div class="fact-value">{props.value as never}</div>
    </div>
  );
}

interface ConfusionMatrix {
  labels: string[];
  matrix: number[][];
  rows: number;
  validationRows: number;
  accuracy: number;
  epoch: number;
}

/** The best checkpoint's confusion matrix on the validation split (classification runs; computed by the API). */
function ConfusionMatrixCard(props: { runId: string }) {
  const query = useQuery<{ run: { confusionMatrix: ConfusionMatrix | null } | null }>(RUN_CONFUSION, {
    id: props.runId,
  });
  const confusion = query.data?.run?.confusionMatrix;
  if (query.error) return <ErrorBox message={`confusion matrix: ${query.error}`} />;
  if (!confusion) return query.loading ? <div class="muted">computing the confusion matrix…</div> : null;
  const largest = Math.max(1, ...confusion.matrix.flat());
  return (
    <Card title="Confusion matrix">
      <p class="muted small">
        best checkpoint (epoch {confusion.epoch}) on {confusion.rows.toLocaleString('en')}
        {confusion.rows < confusion.validationRows ? ` of ${confusion.validationRows.toLocaleString('en')}` : ''}{' '}
        validation rows · accuracy {formatNumber(confusion.accuracy, 3)} · rows: true class, columns: predicted
      </p>
      <table class="confusion" aria-label="confusion matrix">
        <thead>
          <tr>
            <th />
            {confusion.labels.map((label) => (
              <th>{label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {confusion.matrix.map((row, actual) => (
            <tr>
              <th>{confusion.labels[actual]}</th>
              {row.map((count, predicted) => {
                const share = count / largest;
                const color = actual === predicted ? `rgba(25, 169, 121, ${share})` : `rgba(192, 57, 43, ${share})`;
                return (
                  <td style={{ background: count ? color : undefined, color: share > 0.55 ? '#fff' : undefined }}>
                    {count}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
