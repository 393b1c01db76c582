import { describe, expect, it } from "vitest";
import {
  BarChart,
  barLayout,
  CHART_COLOURS,
  HorizontalBarChart,
  horizontalBarLayout,
  LineChart,
  lineLayout,
  niceTicks,
  type ChartProps,
} from "../../src/dashboard/charts";

const html = async (node: unknown) => String(await node);

/** WCAG relative luminance contrast between two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const callsPerDay: ChartProps = {
  id: "calls",
  title: "Calls per day",
  description: "Answered and unanswered calls for each day.",
  xLabel: "Day",
  yLabel: "Calls",
  integer: true,
  series: [
    { key: "answered", label: "Answered" },
    { key: "missed", label: "Not answered" },
  ],
  rows: [
    { label: "2030-01-01", tick: "Jan 1", values: { answered: 2, missed: 1 } },
    { label: "2030-01-02", tick: "Jan 2", values: { answered: 4, missed: 0 } },
    { label: "2030-01-03", tick: "Jan 3", values: { answered: 0, missed: 0 } },
  ],
};

describe("niceTicks", () => {
  it("covers the maximum with round steps from zero", () => {
    expect(niceTicks(9)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(1234)).toEqual([0, 250, 500, 750, 1000, 1250]);
  });

  it("keeps whole-number steps for counts and a 0–1 axis when everything is zero", () => {
    expect(niceTicks(2, { integer: true })).toEqual([0, 1, 2]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });
});

describe("bar chart geometry", () => {
  it("draws stacked bar heights in proportion to the values, stacked without gaps", () => {
    const layout = barLayout(callsPerDay, "stacked");
    const bar = (row: number, series: string) => layout.bars.find((b) => b.row === row && b.series === series)!;
    // Day 2 has 4 answered, day 1 has 2: twice the height.
    expect(bar(1, "answered").height).toBeCloseTo(bar(0, "answered").height * 2, 6);
    expect(bar(0, "missed").height).toBeCloseTo(bar(0, "answered").height / 2, 6);
    // The second segment sits right on top of the first.
    expect(bar(0, "missed").y + bar(0, "missed").height).toBeCloseTo(bar(0, "answered").y, 6);
    // Zero values draw nothing, and every bar stands on the x axis or on another bar.
    expect(layout.bars.filter((b) => b.row === 2)).toEqual([]);
    const baseline = layout.plot.y + layout.plot.height;
    expect(bar(1, "answered").y + bar(1, "answered").height).toBeCloseTo(baseline, 6);
    // The axis reaches the tallest stack (4) exactly: 0..4 in whole steps.
    expect(layout.yTicks.map((t) => t.value)).toEqual([0, 1, 2, 3, 4]);
    expect(bar(1, "answered").y).toBeCloseTo(layout.plot.y, 6);
  });

  it("puts grouped bars side by side within their category", () => {
    const layout = barLayout(callsPerDay, "grouped");
    const [answered, missed] = layout.bars.filter((b) => b.row === 0);
    expect(missed.x).toBeCloseTo(answered.x + answered.width, 6);
    expect(answered.height).toBeCloseTo(missed.height * 2, 6);
    expect(layout.xLabels.map((l) => l.text)).toEqual(["Jan 1", "Jan 2", "Jan 3"]);
  });

  it("labels only every k-th day when there are many, so labels do not overlap", () => {
    const rows = Array.from({ length: 90 }, (_, i) => ({ label: `day ${i}`, values: { answered: i } }));
    const layout = barLayout({ ...callsPerDay, series: [{ key: "answered", label: "Answered" }], rows });
    expect(layout.xLabels.length).toBeLessThanOrEqual(6);
    expect(layout.xLabels[0].text).toBe("day 0");
  });
});

describe("line chart geometry", () => {
  it("places points by value and breaks the line where a value is missing", () => {
    const layout = lineLayout({
      id: "latency",
      title: "Latency",
      description: "p50 and p95 latency per day.",
      xLabel: "Day",
      yLabel: "Milliseconds",
      series: [
        { key: "p50", label: "p50" },
        { key: "p95", label: "p95" },
      ],
      rows: [
        { label: "d1", values: { p50: 400, p95: 800 } },
        { label: "d2", values: { p50: null, p95: null } },
        { label: "d3", values: { p50: 200, p95: 600 } },
        { label: "d4", values: { p50: 300, p95: 700 } },
      ],
    });
    const [p50, p95] = layout.lines;
    expect(p50.points.map((p) => p.row)).toEqual([0, 2, 3]);
    // Two separate runs: d1 alone, then d3–d4.
    expect(p50.path.match(/M/g)).toHaveLength(2);
    expect(p50.path.match(/L/g)).toHaveLength(1);
    const baseline = layout.plot.y + layout.plot.height;
    // 400 ms stands twice as high above the axis as 200 ms.
    expect(baseline - p50.points[0].y).toBeCloseTo((baseline - p50.points[1].y) * 2, 6);
    expect(p95.points[0].y).toBeLessThan(p50.points[0].y);
    // Points sit at the centres of their categories.
    expect(p50.points[1].x - p50.points[0].x).toBeCloseTo(2 * layout.band, 6);
  });
});

describe("horizontal bar geometry", () => {
  it("draws bar lengths in proportion to the values", () => {
    const layout = horizontalBarLayout({
      id: "outcomes",
      title: "Outcomes",
      description: "Calls by how they ended.",
      categoryLabel: "Outcome",
      valueLabel: "Calls",
      integer: true,
      rows: [
        { label: "Contact hung up", value: 6 },
        { label: "No answer", value: 3 },
      ],
    });
    expect(layout.bars[0].width).toBeCloseTo(layout.bars[1].width * 2, 6);
    expect(layout.bars[1].y).toBeGreaterThan(layout.bars[0].y);
    expect(layout.height).toBeGreaterThan(2 * 28);
  });
});

describe("rendered charts", () => {
  it("are labelled SVGs that scale by viewBox, with a hidden data table", async () => {
    const out = await html(BarChart(callsPerDay));
    expect(out).toMatch(/<svg[^>]*viewBox="0 0 400 \d+"/);
    expect(out).toMatch(/<svg[^>]*width="100%"/);
    expect(out).toMatch(/<svg[^>]*role="img"/);
    expect(out).toContain('aria-labelledby="calls-title calls-desc"');
    expect(out).toContain('<title id="calls-title">Calls per day</title>');
    expect(out).toContain('<desc id="calls-desc">Answered and unanswered calls for each day.</desc>');
    expect(out).toContain('<div class="visually-hidden"><table><caption>Calls per day</caption>');
    expect(out).toContain('<th scope="col">Not answered</th>');
    expect(out).toContain('<th scope="row">2030-01-02</th><td>4</td><td>0</td>');
    // No inline style: the CSP would block it.
    expect(out).not.toContain("style=");
    // Three non-zero segments, each with a tooltip naming the day and the value.
    expect(out.match(/<rect [^>]*><title>/g)).toHaveLength(3);
    expect(out).toContain("<title>2030-01-01: Not answered 1</title>");
  });

  it("say so instead of drawing an empty chart", async () => {
    const empty = await html(BarChart({ ...callsPerDay, rows: [] }));
    expect(empty).toContain("No calls in this range");
    expect(empty).not.toContain("<svg");
    const zeros = await html(BarChart({ ...callsPerDay, rows: [{ label: "d", values: { answered: 0, missed: 0 } }] }));
    expect(zeros).toContain("No calls in this range");
    const noLatency = await html(
      LineChart({ ...callsPerDay, emptyMessage: "No latency measured in this range", rows: [{ label: "d", values: { answered: null, missed: null } }] }),
    );
    expect(noLatency).toContain("No latency measured in this range");
    const flat = await html(LineChart({ ...callsPerDay, emptyMessage: "No cost in this range", rows: [{ label: "d", values: { answered: 0, missed: null } }] }));
    expect(flat).toContain("No cost in this range");
    const noOutcomes = await html(HorizontalBarChart({ id: "o", title: "Outcomes", description: "x", categoryLabel: "Outcome", valueLabel: "Calls", rows: [] }));
    expect(noOutcomes).toContain("No calls in this range");
  });

  it("escape labels that come from user data", async () => {
    const out = await html(BarChart({ ...callsPerDay, rows: [{ label: "<script>alert(1)</script>", values: { answered: 1, missed: 0 } }] }));
    expect(out).not.toContain("<script>");
    expect(out).toContain("&lt;script&gt;");
  });

  it("draw lines with a dash pattern per series and a marker per measured point", async () => {
    const out = await html(
      LineChart({
        id: "cost",
        title: "Cost per day",
        description: "Credits spent each day.",
        xLabel: "Day",
        yLabel: "Credits",
        series: [
          { key: "p50", label: "p50" },
          { key: "p95", label: "p95" },
        ],
        rows: [
          { label: "d1", values: { p50: 1, p95: 2 } },
          { label: "d2", values: { p50: 2, p95: null } },
        ],
      }),
    );
    expect(out.match(/<path /g)).toHaveLength(2);
    expect(out).toContain('stroke-dasharray="6 4"');
    expect(out.match(/<circle /g)).toHaveLength(2);
    expect(out).toContain("<td>no data</td>");
  });
});

describe("chart colours", () => {
  it("all reach WCAG AA contrast (4.5:1) on the white chart ground", () => {
    for (const colour of CHART_COLOURS) expect(contrast(colour, "#ffffff")).toBeGreaterThanOrEqual(4.5);
  });
});
