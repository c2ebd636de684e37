// Apache ECharts, only the parts the situation page draws (map and bar series, grid, the canvas
// renderer), imported by that page alone: the queue the desks keep open all day does not load it.
// Counts are written on the map and the bars, the colour scale and legends are the page's own
// HTML, and every figure is in a table beside its chart: the tooltip, visual-map, legend and line
// modules would add about 40 % to the chunk (and HTML tooltips carry inline styles the CSP refuses).
import { BarChart, MapChart } from 'echarts/charts';
import type { BarSeriesOption, MapSeriesOption } from 'echarts/charts';
import { GridComponent, type GridComponentOption } from 'echarts/components';
import { init, registerMap, use, type ComposeOption, type EChartsType } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import sichuan from './geo/sichuan-prefectures.json';

use([MapChart, BarChart, GridComponent, CanvasRenderer]);
// features are named by their GB/T 2260 code (properties.adcode): data and labels key on it
registerMap('sichuan', sichuan as unknown as Parameters<typeof registerMap>[1]);

export type ChartOption = ComposeOption<MapSeriesOption | BarSeriesOption | GridComponentOption>;

export const SICHUAN_MAP = 'sichuan';
/** the prefecture codes drawn on the map */
export const MAP_CODES: readonly string[] = (
  sichuan as { features: { properties: { adcode: string } }[] }
).features.map((f) => f.properties.adcode);

/** A chart in `el` that follows the element's size; dispose() when the element goes. */
export function chartIn(el: HTMLElement): { chart: EChartsType; dispose: () => void } {
  const chart = init(el, undefined, { renderer: 'canvas' });
  const ro = new ResizeObserver(() => chart.resize());
  ro.observe(el);
  return {
    chart,
    dispose: () => {
      ro.disconnect();
      chart.dispose();
    },
  };
}

const SCALE = [
  [0xe6, 0xf0, 0xf2],
  [0x2d, 0x6a, 0x7a],
  [0xb3, 0x26, 0x1e],
] as const;
/** The map's colour for `n` of `max` alerts: pale, through the accent, to red at the most. */
export function heat(n: number, max: number): string {
  if (!n) return '#eef0ec';
  const x = Math.min(1, n / Math.max(1, max)) * (SCALE.length - 1);
  const i = Math.min(SCALE.length - 2, Math.floor(x));
  const f = x - i;
  const c = SCALE[i].map((v, k) => Math.round(v + (SCALE[i + 1][k] - v) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
