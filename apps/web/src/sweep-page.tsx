import type { EChartsCoreOption } from 'echarts/core';
import { useEffect, useMemo, useState } from 'preact/hooks';

import { gql } from './api';
import { EChart, LineChart, PALETTE, type Series } from './charts';
import CANCEL_SWEEP from './graphql/cancel-sweep.graphql';
import RUN_METRICS from './graphql/run-metrics.graphql';
import SWEEP from './graphql/sweep.graphql';
import SWEEP_TRIALS from './graphql/sweep-trials.graphql';
import { Fact } from './run-page';
import { chartPointBudget } from './series';
import type { MetricSeries, Sweep, Trial } from './types';
import {
  allPages,
  Card,
  type Column,
  ErrorBox,
  formatDate,
  formatNumber,
  Json,
  Link,
  StatusBadge,
  useQuery,
  useRefresh,
  VirtualTable,
} from './ui';

/** Trials drawn on the "what pruning saw" chart: one line each; past this many the newest are shown. */
const MAX_INTERMEDIATE_LINES = 200;
const CURVE_FETCHES_AT_ONCE = 6;

interface NumberedTrial extends Trial {
  number: number;
  objective: number | null;
}

function numbered(sweep: Sweep, runs: Trial[]): NumberedTrial[] {
  const ordered = [...runs].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  return ordered.map((trial, index) => {
    const value = trial.summary?.[sweep.objective.metric];
    return {
      ...trial,
      number: index + 1,
      objective: typeof value === 'number' && Number.isFinite(value) ? value : null,
    };
  });
}

function objectiveOption(sweep: Sweep, trials: NumberedTrial[]): EChartsCoreOption {
  const minimize = sweep.objective.goal === 'MINIMIZE';
  let best: number | null = null;
  const bestSoFar: [number, number | null][] = [];
  const finished: [number, number][] = [];
  const pruned: [number, number][] = [];
  for (const trial of trials) {
    if (trial.objective === null) continue;
    if (trial.status === 'PRUNED') pruned.push([trial.number, trial.objective]);
    else finished.push([trial.number, trial.objective]);
    if (
      trial.status === 'SUCCEEDED' &&
      (best === null || (minimize ? trial.objective < best : trial.objective > best))
    ) {
      best = trial.objective;
    }
    bestSoFar.push([trial.number, best]);
  }
  return {
    animation: false,
    tooltip: { trigger: 'item' },
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 30, bottom: 40 },
    xAxis: { type: 'value', name: 'trial', nameLocation: 'middle', nameGap: 25, minInterval: 1 },
    yAxis: { type: 'value', name: sweep.objective.metric, scale: true },
    series: [
      { name: 'trial', type: 'scatter', data: finished, symbolSize: 6, itemStyle: { color: PALETTE[0] }, large: true },
      {
        name: 'pruned',
        type: 'scatter',
        data: pruned,
        symbol: 'triangle',
        symbolSize: 7,
        itemStyle: { color: '#c0392b' },
        large: true,
      },
      {
        name: 'best so far',
        type: 'line',
        step: 'end',
        data: bestSoFar,
        showSymbol: false,
        lineStyle: { color: PALETTE[2], width: 2 },
      },
    ],
  };
}

function parallelOption(sweep: Sweep, trials: NumberedTrial[]): EChartsCoreOption {
  const parameters = Object.keys(sweep.searchSpace);
  const rated = trials.filter((trial) => trial.objective !== null);
  const values = rated.map((trial) => trial.objective as number);
  const axes = parameters.map((name, index) => {
    const space = sweep.searchSpace[name];
    if (space.type === 'choice') return { dim: index, name, type: 'category', data: (space.values ?? []).map(String) };
    return { dim: index, name, type: space.type === 'loguniform' ? 'log' : 'value', scale: true };
  });
  axes.push({ dim: parameters.length, name: sweep.objective.metric, type: 'value', scale: true } as never);
  return {
    animation: false,
    parallel: { left: 60, right: 90, top: 40, bottom: 30 },
    parallelAxis: axes,
    visualMap: {
      type: 'continuous',
      dimension: parameters.length,
      min: values.length ? Math.min(...values) : 0,
      max: values.length ? Math.max(...values) : 1,
      inRange: {
        color:
          sweep.objective.goal === 'MINIMIZE' ? ['#19a979', '#f4c542', '#c0392b'] : ['#c0392b', '#f4c542', '#19a979'],
      },
      right: 0,
      top: 'middle',
      calculable: true,
    },
    series: [
      {
        type: 'parallel',
        lineStyle: { width: 1.2, opacity: 0.5 },
        progressive: 1000,
        data: rated.map((trial) => [
          ...parameters.map((name) => {
            const value = trial.hyperparameters[name];
            return sweep.searchSpace[name].type === 'choice' ? String(value) : value;
          }),
          trial.objective,
        ]),
      },
    ],
  };
}

function importanceOption(importance: Record<string, number>): EChartsCoreOption {
  const entries = Object.entries(importance).sort((a, b) => a[1] - b[1]);
  return {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 110, right: 40, top: 10, bottom: 30 },
    xAxis: { type: 'value', max: 1, axisLabel: { formatter: (value: number) => `${Math.round(value * 100)}%` } },
    yAxis: { type: 'category', data: entries.map(([name]) => name) },
    series: [
      {
        type: 'bar',
        data: entries.map(([, share]) => Number(share.toFixed(4))),
        itemStyle: { color: PALETTE[0], borderRadius: [0, 4, 4, 0] },
        label: {
          show: true,
          position: 'right',
          formatter: ({ value }: { value: number }) => `${(value * 100).toFixed(1)}%`,
        },
      },
    ],
  };
}

export function SweepPage(props: { id: string }) {
  const query = useQuery<{ sweep: Sweep | null }>(SWEEP, { id: props.id });
  const sweep = query.data?.sweep;
  const [runs, setRuns] = useState<Trial[] | null>(null);
  const trials = useMemo(() => (sweep && runs ? numbered(sweep, runs) : []), [sweep, runs]);
  const [curves, setCurves] = useState<{ id: string; status: string; metrics: MetricSeries[] }[]>([]);
  const [picked, setPicked] = useState<string[]>([]);
  const [overlay, setOverlay] = useState<Series[]>([]);
  const [error, setError] = useState<string>();

  // While it runs, the sweep is read again every few seconds (the API has no sweep subscription): new trials,
  // best so far, importance.
  useRefresh(sweep?.status === 'RUNNING', query.reload);

  // Every trial, page after page (5,000 trials are ten pages of 500); the charts need them all.
  useEffect(() => {
    if (!sweep) return;
    let current = true;
    allPages<Trial>(SWEEP_TRIALS, { id: sweep.id }, (data) => data.sweep.runsPage).then(
      (all) => current && setRuns(all),
      (failure: Error) => current && setError(failure.message),
    );
    return () => {
      current = false;
    };
  }, [sweep]);

  // Each trial's objective curve, one small query per trial (the API prices one query for all of them as too
  // expensive), a few at a time, newest trials first; the chart fills in as they arrive.
  useEffect(() => {
    if (!sweep) return;
    let current = true;
    const wanted = [...trials].reverse().slice(0, MAX_INTERMEDIATE_LINES);
    const maxPoints = chartPointBudget();
    const fetched: { id: string; status: string; metrics: MetricSeries[] }[] = [];
    const next = async (): Promise<void> => {
      const trial = wanted.shift();
      if (!trial || !current) return;
      const variables = { id: trial.id, names: [sweep.objective.metric], maxPoints };
      const answer = await gql<{ run: { metrics: MetricSeries[] } | null }>(RUN_METRICS, variables);
      fetched.push({ id: trial.id, status: trial.status, metrics: answer.run?.metrics ?? [] });
      if (current) setCurves([...fetched]);
      return next();
    };
    Promise.all(Array.from({ length: CURVE_FETCHES_AT_ONCE }, next)).catch(
      (failure: Error) => current && setError(failure.message),
    );
    return () => {
      current = false;
    };
  }, [sweep?.id, trials.length]);

  useEffect(() => {
    if (!sweep || picked.length === 0) return setOverlay([]);
    const metric = sweep.objective.metric;
    const names = [metric, metric.replace(/^val_/, '')];
    const maxPoints = chartPointBudget();
    // Picks made in quick succession: only the answer for the latest set is drawn, whichever arrives last.
    let current = true;
    Promise.all(
      picked.map((id) => gql<{ run: { id: string; metrics: MetricSeries[] } }>(RUN_METRICS, { id, names, maxPoints })),
    ).then(
      (answers) =>
        current &&
        setOverlay(
          answers.flatMap((answer) =>
            answer.run.metrics.map((series) => ({
              label: `#${trials.find((trial) => trial.id === answer.run.id)?.number} ${series.name}`,
              points: series.points,
              dashed: !series.name.startsWith('val_'),
            })),
          ),
        ),
      (failure: Error) => current && setError(failure.message),
    );
    return () => {
      current = false;
    };
  }, [picked.join(','), sweep?.id]);

  const intermediate = useMemo<Series[]>(() => {
    const byId = new Map(trials.map((trial) => [trial.id, trial.number]));
    return curves
      .filter((run) => run.metrics[0]?.points.length)
      .sort((a, b) => (byId.get(a.id) ?? 0) - (byId.get(b.id) ?? 0))
      .slice(-MAX_INTERMEDIATE_LINES)
      .map((run) => ({
        label: `#${byId.get(run.id) ?? '?'}${run.status === 'PRUNED' ? ' pruned' : ''}`,
        points: run.metrics[0].points,
      }));
  }, [curves, trials]);

  const objectiveChart = useMemo(() => (sweep ? objectiveOption(sweep, trials) : {}), [trials]);
  const parallelChart = useMemo(() => (sweep ? parallelOption(sweep, trials) : {}), [trials]);
  const importanceChart = useMemo(() => (sweep?.importance ? importanceOption(sweep.importance) : null), [sweep]);

  if (query.error) return <ErrorBox message={query.error} />;
  if (!sweep) return <div class="muted">{query.loading ? 'loading…' : 'no such sweep'}</div>;
  if (!runs) return <div class="muted">loading the trials…</div>;

  const parameters = Object.keys(sweep.searchSpace);
  const columns: Column<NumberedTrial>[] = [
    {
      title: 'pick',
      width: '50px',
      render: (trial) => (
        <input
          type="checkbox"
          aria-label={`pick trial ${trial.number}`}
          checked={picked.includes(trial.id)}
          onClick={(event) => event.stopPropagation()}
          onChange={() =>
            setPicked((current) =>
              current.includes(trial.id) ? current.filter((id) => id !== trial.id) : [...current, trial.id],
            )
          }
        />
      ),
    },
    {
      title: '#',
      width: '60px',
      render: (trial) => <Link href={`/ui/runs/${trial.id}`}>{trial.number}</Link>,
      sortValue: (t) => t.number,
    },
    {
      title: 'status',
      width: '130px',
      render: (trial) => <StatusBadge status={trial.status} />,
      sortValue: (t) => t.status,
    },
    {
      title: sweep.objective.metric,
      render: (trial) => formatNumber(trial.objective),
      sortValue: (trial) => trial.objective,
    },
    ...parameters.map((name) => ({
      title: name,
      render: (trial: NumberedTrial) => formatNumber(trial.hyperparameters[name]),
      sortValue: (trial: NumberedTrial) => trial.hyperparameters[name] as number | string,
    })),
    { title: 'epochs', width: '70px', render: (trial) => trial.epochsCompleted, sortValue: (t) => t.epochsCompleted },
  ];
  const running = sweep.status === 'RUNNING';
  return (
    <div class="page">
      <header class="page-head">
        <h1>
          Sweep {sweep.name} <StatusBadge status={sweep.status} />
        </h1>
        <span class={`live ${running ? 'on' : ''}`}>{running ? '● updating' : 'finished'}</span>
        <span class="spacer" />
        <button onClick={query.reload}>refresh</button>
        {running && (
          <button
            class="danger"
            onClick={() =>
              confirm(`Cancel sweep ${sweep.name}?`) &&
              gql(CANCEL_SWEEP, { id: sweep.id }).then(query.reload, (e: Error) => setError(e.message))
            }
          >
            Cancel sweep
          </button>
        )}
      </header>
      <ErrorBox message={error ?? sweep.error ?? undefined} />
      <div class="facts">
        <Fact label="strategy" value={sweep.strategy} />
        <Fact label="objective" value={`${sweep.objective.goal.toLowerCase()} ${sweep.objective.metric}`} />
        <Fact label="trials" value={`${trials.length} / ${sweep.maxTrials}`} />
        <Fact label="parallelism" value={sweep.parallelism} />
        <Fact
          label="best"
          value={
            sweep.bestRun ? <Link href={`/ui/runs/${sweep.bestRun.id}`}>{sweep.bestRun.id.slice(0, 8)}</Link> : '–'
          }
        />
        <Fact label="created" value={formatDate(sweep.createdAt)} />
        <Fact label="finished" value={formatDate(sweep.finishedAt)} />
      </div>
      <div class="charts">
        <EChart title="objective by trial" option={objectiveChart} />
        <EChart title="parallel coordinates" option={parallelChart} height={300} />
        <LineChart title="intermediate values" series={intermediate} xLabel="epoch" />
        {importanceChart ? (
          <EChart
            title="parameter importance"
            option={importanceChart}
            height={Math.max(140, 40 * parameters.length + 40)}
          />
        ) : (
          <figure class="chart" data-chart="parameter importance">
            <figcaption>parameter importance</figcaption>
            <div class="muted">PED-ANOVA needs at least 10 finished trials</div>
          </figure>
        )}
      </div>
      <Card title="Trials">
        <VirtualTable label="trials" rows={trials} rowKey={(trial) => trial.id} columns={columns} height={400} />
        {picked.length > 0 && <LineChart title="picked trials" series={overlay} xLabel="epoch" />}
        {picked.length === 0 && <div class="muted small">pick trials to overlay their curves</div>}
      </Card>
      <Card title="Search space">
        <Json value={sweep.searchSpace} />
      </Card>
    </div>
  );
}
