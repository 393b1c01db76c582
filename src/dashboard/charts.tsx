/**
 * Server-rendered SVG charts for the dashboard: no client code, no inline styles (the CSP forbids
 * them), presentation attributes only. Each chart is a <figure> with a visible caption, an SVG
 * labelled by its own <title> and <desc>, and a visually hidden table with the same numbers for
 * screen readers. The SVG sizes by its viewBox, so it shrinks to a phone's width.
 *
 * The geometry lives in pure `*Layout` functions so tests can check it without parsing markup.
 */

/** On white every colour reaches 4.5:1, so it passes both as a graphic (3:1) and as legend text. */
export const CHART_COLOURS = ["#1d4ed8", "#b45309", "#047857", "#7e22ce", "#b91c1c", "#4b5563"] as const;
const INK = "#1f2937";
const GRID = "#d1d5db";
const BACKGROUND = "#ffffff";
/** Line series differ by dash and marker too, so they never depend on colour alone. */
const DASHES = ["", "6 4", "2 3", "8 3 2 3"];

const WIDTH = 400;
const FONT_SIZE = 13;
const MARGIN = { top: 40, right: 16, bottom: 52, left: 60 };
const PLOT_HEIGHT = 170;
/** Beyond this many categories the x axis labels every k-th one, so labels never overlap. */
const MAX_X_LABELS = 6;

export interface ChartSeries {
  key: string;
  label: string;
}

export interface ChartRow {
  /** The category's full name, used in the table and in tooltips (e.g. "2026-05-01"). */
  label: string;
  /** A shorter axis label (e.g. "May 1"); defaults to `label`. */
  tick?: string;
  /** One value per series key; null means "not measured" (a gap in a line, nothing in a bar). */
  values: Record<string, number | null>;
}

export interface ChartProps {
  /** Prefix for element ids; unique on the page. */
  id: string;
  title: string;
  /** One sentence on what the chart shows, read by screen readers with the title. */
  description: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  rows: ChartRow[];
  format?: (value: number) => string;
  /** Counts get whole-number ticks. */
  integer?: boolean;
  emptyMessage?: string;
}

const DEFAULT_EMPTY_MESSAGE = "No calls in this range";

const formatCount = (value: number) => value.toLocaleString("en-US", { maximumFractionDigits: 2 });

/** 0 and round steps (1, 2, 2.5 or 5 × 10^n) up to at least `max`, about `target` of them. */
export function niceTicks(max: number, options: { target?: number; integer?: boolean } = {}): number[] {
  const target = options.target ?? 5;
  if (!(max > 0)) return [0, 1];
  const rough = max / target;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  if (options.integer) step = Math.max(1, Math.ceil(step));
  const count = Math.ceil(max / step - 1e-9);
  // toPrecision removes float noise such as 0.30000000000000004.
  return Array.from({ length: count + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

interface Axis {
  width: number;
  height: number;
  plot: { x: number; y: number; width: number; height: number };
  yTicks: { value: number; y: number; text: string }[];
  xLabels: { x: number; text: string }[];
  /** Where a value lands on the y axis. */
  yOf: (value: number) => number;
  /** Centre of category i. */
  xOf: (index: number) => number;
  band: number;
}

function axisLayout(props: ChartProps, max: number): Axis {
  const plot = { x: MARGIN.left, y: MARGIN.top, width: WIDTH - MARGIN.left - MARGIN.right, height: PLOT_HEIGHT };
  const ticks = niceTicks(max, { integer: props.integer });
  const top = ticks[ticks.length - 1];
  const format = props.format ?? formatCount;
  const yOf = (value: number) => plot.y + plot.height - (value / top) * plot.height;
  const band = plot.width / Math.max(1, props.rows.length);
  const xOf = (index: number) => plot.x + (index + 0.5) * band;
  const every = Math.ceil(props.rows.length / MAX_X_LABELS);
  return {
    width: WIDTH,
    height: MARGIN.top + PLOT_HEIGHT + MARGIN.bottom,
    plot,
    yTicks: ticks.map((value) => ({ value, y: yOf(value), text: format(value) })),
    xLabels: props.rows.flatMap((row, i) => (i % every === 0 ? [{ x: xOf(i), text: row.tick ?? row.label }] : [])),
    yOf,
    xOf,
    band,
  };
}

export interface BarRect {
  row: number;
  series: string;
  value: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export type BarLayout = Axis & { bars: BarRect[] };

/** Vertical bars per category: the series stacked on each other, or side by side when grouped. */
export function barLayout(props: ChartProps, mode: "stacked" | "grouped" = "stacked"): BarLayout {
  const value = (row: ChartRow, key: string) => Math.max(0, row.values[key] ?? 0);
  const max = Math.max(
    0,
    ...props.rows.map((row) =>
      mode === "stacked" ? props.series.reduce((sum, s) => sum + value(row, s.key), 0) : Math.max(0, ...props.series.map((s) => value(row, s.key))),
    ),
  );
  const axis = axisLayout(props, max);
  const groupWidth = axis.band * 0.7;
  const bars: BarRect[] = [];
  props.rows.forEach((row, i) => {
    const left = axis.xOf(i) - groupWidth / 2;
    let base = 0;
    props.series.forEach((s, k) => {
      const v = value(row, s.key);
      if (v === 0) return;
      if (mode === "stacked") {
        const y = axis.yOf(base + v);
        bars.push({ row: i, series: s.key, value: v, x: left, y, width: groupWidth, height: axis.yOf(base) - y });
        base += v;
      } else {
        const width = groupWidth / props.series.length;
        const y = axis.yOf(v);
        bars.push({ row: i, series: s.key, value: v, x: left + k * width, y, width, height: axis.yOf(0) - y });
      }
    });
  });
  return { ...axis, bars };
}

export interface LinePoint {
  row: number;
  value: number;
  x: number;
  y: number;
}

export type LineLayout = Axis & { lines: { series: string; path: string; points: LinePoint[] }[] };

/** One line per series through the category centres; a null value breaks the line. */
export function lineLayout(props: ChartProps): LineLayout {
  const values = props.rows.flatMap((row) => props.series.map((s) => row.values[s.key] ?? 0));
  const axis = axisLayout(props, Math.max(0, ...values));
  const lines = props.series.map((s) => {
    const points: LinePoint[] = [];
    let path = "";
    let drawing = false;
    props.rows.forEach((row, i) => {
      const v = row.values[s.key];
      if (v === null || v === undefined) {
        drawing = false;
        return;
      }
      const point = { row: i, value: v, x: axis.xOf(i), y: axis.yOf(v) };
      points.push(point);
      path += `${drawing ? "L" : "M"}${round(point.x)} ${round(point.y)} `;
      drawing = true;
    });
    return { series: s.key, path: path.trim(), points };
  });
  return { ...axis, lines };
}

export interface HorizontalBarProps {
  id: string;
  title: string;
  description: string;
  /** The categories' heading in the table (e.g. "Outcome"). */
  categoryLabel: string;
  /** The values' axis title (e.g. "Calls"). */
  valueLabel: string;
  rows: { label: string; value: number }[];
  format?: (value: number) => string;
  integer?: boolean;
  emptyMessage?: string;
}

const H_MARGIN = { top: 12, right: 56, bottom: 44, left: 150 };
const H_ROW = 28;

export type HorizontalBarLayout = {
  width: number;
  height: number;
  plot: { x: number; y: number; width: number; height: number };
  xTicks: { value: number; x: number; text: string }[];
  bars: { label: string; value: number; x: number; y: number; width: number; height: number; text: string }[];
};

/** One bar per category, longest reading left to right: for long names such as call outcomes. */
export function horizontalBarLayout(props: HorizontalBarProps): HorizontalBarLayout {
  const format = props.format ?? formatCount;
  const plot = { x: H_MARGIN.left, y: H_MARGIN.top, width: WIDTH - H_MARGIN.left - H_MARGIN.right, height: props.rows.length * H_ROW };
  const ticks = niceTicks(Math.max(0, ...props.rows.map((r) => r.value)), { integer: props.integer, target: 4 });
  const top = ticks[ticks.length - 1];
  const xOf = (value: number) => plot.x + (Math.max(0, value) / top) * plot.width;
  return {
    width: WIDTH,
    height: H_MARGIN.top + plot.height + H_MARGIN.bottom,
    plot,
    xTicks: ticks.map((value) => ({ value, x: xOf(value), text: format(value) })),
    bars: props.rows.map((row, i) => ({
      label: row.label,
      value: row.value,
      x: plot.x,
      y: plot.y + i * H_ROW + H_ROW * 0.15,
      width: xOf(row.value) - plot.x,
      height: H_ROW * 0.7,
      text: format(row.value),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering

const round = (n: number) => Math.round(n * 10) / 10;
const colourOf = (index: number) => CHART_COLOURS[index % CHART_COLOURS.length];

/** Whether anything but zeros and gaps was measured: a flat line at 0 says less than a sentence. */
function hasData(props: ChartProps): boolean {
  return props.rows.some((row) => props.series.some((s) => (row.values[s.key] ?? 0) !== 0));
}

function Empty(props: { title: string; message: string }) {
  return (
    <figure class="chart chart-empty">
      <figcaption>{props.title}</figcaption>
      <p>{props.message}</p>
    </figure>
  );
}

/** The SVG shell every chart shares: labelled, scalable, on its own white ground for contrast. */
function Svg(props: { id: string; title: string; description: string; width: number; height: number; children: unknown }) {
  return (
    <svg
      class="chart-svg"
      viewBox={`0 0 ${props.width} ${props.height}`}
      width="100%"
      role="img"
      aria-labelledby={`${props.id}-title ${props.id}-desc`}
      focusable="false"
      font-size={FONT_SIZE}
      font-family="system-ui, sans-serif"
    >
      <title id={`${props.id}-title`}>{props.title}</title>
      <desc id={`${props.id}-desc`}>{props.description}</desc>
      <rect x="0" y="0" width={props.width} height={props.height} fill={BACKGROUND} />
      {props.children}
    </svg>
  );
}

function Legend(props: { series: ChartSeries[]; shape: "box" | "line" }) {
  if (props.series.length < 2) return null;
  let x = MARGIN.left;
  return (
    <g aria-hidden="true">
      {props.series.map((s, i) => {
        const at = x;
        x += 28 + s.label.length * 7.5;
        return (
          <g>
            {props.shape === "box" ? (
              <rect x={at} y={12} width={14} height={14} fill={colourOf(i)} />
            ) : (
              <line x1={at} y1={19} x2={at + 20} y2={19} stroke={colourOf(i)} stroke-width={3} stroke-dasharray={DASHES[i % DASHES.length] || undefined} />
            )}
            <text x={at + (props.shape === "box" ? 20 : 26)} y={24} fill={INK}>
              {s.label}
            </text>
          </g>
        );
      })}
    </g>
  );
}

function Axes(props: { axis: Axis; xLabel: string; yLabel: string }) {
  const { axis } = props;
  const { plot } = axis;
  const bottom = plot.y + plot.height;
  return (
    <g aria-hidden="true">
      {axis.yTicks.map((t) => (
        <g>
          <line x1={plot.x} y1={round(t.y)} x2={plot.x + plot.width} y2={round(t.y)} stroke={GRID} stroke-width={1} />
          <text x={plot.x - 6} y={round(t.y) + 4} text-anchor="end" fill={INK}>
            {t.text}
          </text>
        </g>
      ))}
      <line x1={plot.x} y1={bottom} x2={plot.x + plot.width} y2={bottom} stroke={INK} stroke-width={1} />
      {axis.xLabels.map((l) => (
        <text x={round(l.x)} y={bottom + 18} text-anchor="middle" fill={INK}>
          {l.text}
        </text>
      ))}
      <text x={plot.x + plot.width / 2} y={axis.height - 8} text-anchor="middle" fill={INK}>
        {props.xLabel}
      </text>
      <text x={14} y={plot.y + plot.height / 2} text-anchor="middle" fill={INK} transform={`rotate(-90 14 ${plot.y + plot.height / 2})`}>
        {props.yLabel}
      </text>
    </g>
  );
}

/** The same numbers as the picture, for screen readers (hidden on screen). */
function DataTable(props: { caption: string; columns: string[]; rows: { label: string; cells: string[] }[] }) {
  return (
    // The wrapper hides it: a table cannot be squeezed to 1 px, and would widen the page on phones.
    <div class="visually-hidden">
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((column) => (
              <th scope="col">{column}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr>
              <th scope="row">{row.label}</th>
              {row.cells.map((cell) => (
                <td>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function seriesTable(props: ChartProps) {
  const format = props.format ?? formatCount;
  return (
    <DataTable
      caption={props.title}
      columns={[props.xLabel, ...props.series.map((s) => s.label)]}
      rows={props.rows.map((row) => ({ label: row.label, cells: props.series.map((s) => (row.values[s.key] == null ? "no data" : format(row.values[s.key]!))) }))}
    />
  );
}

/** Vertical bars per category (e.g. calls per day, answered stacked on not answered). */
export function BarChart(props: ChartProps & { mode?: "stacked" | "grouped" }) {
  if (!hasData(props)) return <Empty title={props.title} message={props.emptyMessage ?? DEFAULT_EMPTY_MESSAGE} />;
  const layout = barLayout(props, props.mode);
  const format = props.format ?? formatCount;
  const indexOf = new Map(props.series.map((s, i) => [s.key, i]));
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <Svg id={props.id} title={props.title} description={props.description} width={layout.width} height={layout.height}>
        <Legend series={props.series} shape="box" />
        <Axes axis={layout} xLabel={props.xLabel} yLabel={props.yLabel} />
        <g>
          {layout.bars.map((bar) => {
            const i = indexOf.get(bar.series)!;
            return (
              // The white edge separates stacked segments whatever their colours.
              <rect x={round(bar.x)} y={round(bar.y)} width={round(bar.width)} height={round(bar.height)} fill={colourOf(i)} stroke={BACKGROUND} stroke-width={1}>
                <title>{`${props.rows[bar.row].label}: ${props.series[i].label} ${format(bar.value)}`}</title>
              </rect>
            );
          })}
        </g>
      </Svg>
      {seriesTable(props)}
    </figure>
  );
}

const MARKERS = ["circle", "square", "triangle"] as const;

function Marker(props: { shape: (typeof MARKERS)[number]; x: number; y: number; colour: string; title: string }) {
  const { x, y } = { x: round(props.x), y: round(props.y) };
  const tip = <title>{props.title}</title>;
  if (props.shape === "circle") return <circle cx={x} cy={y} r={3.5} fill={props.colour}>{tip}</circle>;
  if (props.shape === "square") return <rect x={x - 3.5} y={y - 3.5} width={7} height={7} fill={props.colour}>{tip}</rect>;
  return <polygon points={`${x},${y - 4.5} ${x + 4.5},${y + 3.5} ${x - 4.5},${y + 3.5}`} fill={props.colour}>{tip}</polygon>;
}

/** Lines per series over the categories (e.g. cost per day, latency p50 and p95). */
export function LineChart(props: ChartProps) {
  if (!hasData(props)) return <Empty title={props.title} message={props.emptyMessage ?? DEFAULT_EMPTY_MESSAGE} />;
  const layout = lineLayout(props);
  const format = props.format ?? formatCount;
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <Svg id={props.id} title={props.title} description={props.description} width={layout.width} height={layout.height}>
        <Legend series={props.series} shape="line" />
        <Axes axis={layout} xLabel={props.xLabel} yLabel={props.yLabel} />
        {layout.lines.map((line, i) => (
          <g>
            <path d={line.path} fill="none" stroke={colourOf(i)} stroke-width={2.5} stroke-dasharray={DASHES[i % DASHES.length] || undefined} stroke-linejoin="round" />
            {line.points.map((p) => (
              <Marker shape={MARKERS[i % MARKERS.length]} x={p.x} y={p.y} colour={colourOf(i)} title={`${props.rows[p.row].label}: ${props.series[i].label} ${format(p.value)}`} />
            ))}
          </g>
        ))}
      </Svg>
      {seriesTable(props)}
    </figure>
  );
}

/** Horizontal bars with their values written at the end (e.g. calls by outcome). */
export function HorizontalBarChart(props: HorizontalBarProps) {
  if (!props.rows.some((r) => r.value > 0)) return <Empty title={props.title} message={props.emptyMessage ?? DEFAULT_EMPTY_MESSAGE} />;
  const layout = horizontalBarLayout(props);
  const { plot } = layout;
  const bottom = plot.y + plot.height;
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <Svg id={props.id} title={props.title} description={props.description} width={layout.width} height={layout.height}>
        <g aria-hidden="true">
          {layout.xTicks.map((t) => (
            <g>
              <line x1={round(t.x)} y1={plot.y} x2={round(t.x)} y2={bottom} stroke={GRID} stroke-width={1} />
              <text x={round(t.x)} y={bottom + 16} text-anchor="middle" fill={INK}>
                {t.text}
              </text>
            </g>
          ))}
          <line x1={plot.x} y1={plot.y} x2={plot.x} y2={bottom} stroke={INK} stroke-width={1} />
          <text x={plot.x + plot.width / 2} y={layout.height - 8} text-anchor="middle" fill={INK}>
            {props.valueLabel}
          </text>
        </g>
        {layout.bars.map((bar) => (
          <g>
            <text x={plot.x - 8} y={round(bar.y + bar.height / 2 + 4)} text-anchor="end" fill={INK} aria-hidden="true">
              {bar.label}
            </text>
            <rect x={round(bar.x)} y={round(bar.y)} width={round(bar.width)} height={round(bar.height)} fill={CHART_COLOURS[0]}>
              <title>{`${bar.label}: ${bar.text}`}</title>
            </rect>
            <text x={round(bar.x + bar.width + 6)} y={round(bar.y + bar.height / 2 + 4)} fill={INK} aria-hidden="true">
              {bar.text}
            </text>
          </g>
        ))}
      </Svg>
      <DataTable caption={props.title} columns={[props.categoryLabel, props.valueLabel]} rows={props.rows.map((r) => ({ label: r.label, cells: [(props.format ?? formatCount)(r.value)] }))} />
    </figure>
  );
}
