import 'uplot/dist/uPlot.min.css';

import { BarChart, LineChart as ELineChart, ParallelChart, ScatterChart } from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  ParallelComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import type { EChartsCoreOption } from 'echarts/core';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

echarts.use([
  BarChart,
  ELineChart,
  ParallelChart,
  ScatterChart,
  GridComponent,
  LegendComponent,
  ParallelComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export const PALETTE = ['#4f6bed', '#e8743b', '#19a979', '#ed4a7b', '#945ecf', '#13a4b4', '#525df4', '#bf399e'];

export interface Series {
  label: string;
  points: { step: number; value: number }[];
  dashed?: boolean;
}

/** Pixel width a chart will get: the number of points worth asking the server for (one per pixel column). */
export function chartPixelWidth(element: HTMLElement | null): number {
  return Math.max(200, Math.round(element?.clientWidth ?? 600));
}

/** Joins series with different steps on one x axis (uPlot wants aligned columns; missing values are null). */
function aligned(series: Series[]): uPlot.AlignedData {
  const tables = series.map(
    (one) => [one.points.map((p) => p.step), one.points.map((p) => p.value)] as uPlot.AlignedData,
  );
  if (tables.length === 0) return [[]];
  return uPlot.join(tables as uPlot.AlignedData[]);
}

/** A line chart on uPlot (canvas, made for many points); it re-sizes with its box and updates in place. */
export function LineChart(props: { title: string; series: Series[]; xLabel?: string; log?: boolean; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const labels = props.series.map((one) => one.label).join('|');

  useEffect(() => {
    if (!box.current) return;
    const options: uPlot.Options = {
      width: chartPixelWidth(box.current),
      height: props.height ?? 220,
      scales: { x: { time: false }, y: props.log ? { distr: 3 } : {} },
      axes: [{ label: props.xLabel ?? 'step', size: 40 }, { size: 60 }],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      series: [
        { label: props.xLabel ?? 'step' },
        ...props.series.map((one, index) => ({
          label: one.label,
          stroke: PALETTE[index % PALETTE.length],
          width: 2,
          dash: one.dashed ? [6, 4] : undefined,
          spanGaps: true,
          // Markers while few points are in view: a live run's chart starts with one point and grows to thousands.
          points: { show: (_plot: uPlot, _series: number, first: number, last: number) => last - first < 60 },
        })),
      ],
    };
    plot.current = new uPlot(options, aligned(props.series), box.current);
    const observer = new ResizeObserver(() => {
      if (box.current && plot.current)
        plot.current.setSize({ width: chartPixelWidth(box.current), height: props.height ?? 220 });
    });
    observer.observe(box.current);
    return () => {
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [labels, props.log]);

  useEffect(() => {
    plot.current?.setData(aligned(props.series));
  }, [props.series]);

  const total = props.series.reduce((sum, one) => sum + one.points.length, 0);
  return (
    <figure class="chart" data-chart={props.title} data-points={total} data-series={props.series.length}>
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" />
    </figure>
  );
}

/** An ECharts chart (parallel coordinates, bars, scatter); the option object is the whole description. */
export function EChart(props: { title: string; option: EChartsCoreOption; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    if (!box.current) return;
    chart.current = echarts.init(box.current, undefined, { renderer: 'canvas' });
    const observer = new ResizeObserver(() => chart.current?.resize());
    observer.observe(box.current);
    return () => {
      observer.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);
  // A page that reads its data again (a running sweep's, every few seconds) hands over equal options each time;
  // drawing them again would replay the chart's entry animation for nothing.
  const drawn = useRef<string | undefined>(undefined);
  useEffect(() => {
    const described = JSON.stringify(props.option);
    if (described === drawn.current) return;
    drawn.current = described;
    chart.current?.setOption(props.option, true);
  }, [props.option]);
  return (
    <figure class="chart" data-chart={props.title}>
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" style={{ height: `${props.height ?? 260}px` }} />
    </figure>
  );
}
