/** A small hand-written SVG: grouped bars of median wall time per host count. */

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  /** One value (ms) per group; NaN leaves a gap. */
  readonly values: readonly number[];
}

export interface ChartInput {
  readonly title: string;
  readonly subtitle: string;
  readonly groups: readonly string[];
  /** More label lines under each group, e.g. the ratios. */
  readonly notes?: readonly (readonly string[])[];
  readonly series: readonly ChartSeries[];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A round axis step giving about five ticks. */
function tickStep(maxValue: number): number {
  const raw = maxValue / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

export function barChart(c: ChartInput): string {
  const W = 760;
  const H = 452;
  const left = 64;
  const right = 20;
  const top = 70;
  const bottom = 96;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const all = c.series.flatMap((s) => s.values.filter(Number.isFinite)).map((v) => v / 1000);
  const step = tickStep(Math.max(0.1, ...all));
  const yMax = Math.ceil(Math.max(0.1, ...all) / step) * step;
  const y = (s: number): number => top + plotH - (s / yMax) * plotH;
  const groupW = plotW / Math.max(1, c.groups.length);
  const barW = Math.min(56, (groupW * 0.8) / Math.max(1, c.series.length));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">${esc(c.title)}</text>`,
    `<text x="${left}" y="44" fill="#555">${esc(c.subtitle)}</text>`,
  );
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    const yy = y(v).toFixed(1);
    out.push(
      `<line x1="${left}" y1="${yy}" x2="${W - right}" y2="${yy}" stroke="#e3e3e3"/>`,
      `<text x="${left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#444">${Number(v.toFixed(3))} s</text>`,
    );
  }
  out.push(
    `<line x1="${left}" y1="${top + plotH}" x2="${W - right}" y2="${top + plotH}" stroke="#333"/>`,
  );
  c.groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + (groupW - barW * c.series.length) / 2;
    c.series.forEach((s, si) => {
      const ms = s.values[gi];
      if (ms === undefined || !Number.isFinite(ms)) return;
      const v = ms / 1000;
      const x = x0 + si * barW;
      out.push(
        `<rect x="${(x + 2).toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${s.color}"><title>${esc(`${s.label}, ${g}: ${v.toFixed(2)} s`)}</title></rect>`,
        `<text x="${(x + barW / 2).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#222">${v.toFixed(v < 10 ? 2 : 1)}</text>`,
      );
    });
    const cx = (left + gi * groupW + groupW / 2).toFixed(1);
    out.push(
      `<text x="${cx}" y="${top + plotH + 18}" text-anchor="middle" fill="#222" font-weight="bold">${esc(g)}</text>`,
    );
    (c.notes?.[gi] ?? []).forEach((note, li) => {
      out.push(
        `<text x="${cx}" y="${top + plotH + 33 + li * 14}" text-anchor="middle" font-size="11" fill="#444">${esc(note)}</text>`,
      );
    });
  });
  let lx = left;
  const ly = H - 22;
  for (const s of c.series) {
    out.push(
      `<rect x="${lx.toFixed(1)}" y="${ly - 10}" width="12" height="12" fill="${s.color}"/>`,
      `<text x="${(lx + 16).toFixed(1)}" y="${ly}" fill="#222">${esc(s.label)}</text>`,
    );
    lx += 24 + s.label.length * 6.6;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** What the chart shows of one host count (bench/run.ts records more). */
export interface ChartSize {
  readonly hosts: number;
  readonly floorMs: number;
  readonly floorChecksMs: number;
  readonly noChangeMs: number;
  readonly checkMs: number;
  readonly noChangeRatio: number;
  readonly checkRatio: number;
  readonly roundTripsPerHost: { readonly noChange: number };
  readonly peakRssMb: { readonly noChange: number; readonly check: number };
}

/** The parts of a bench/run.ts results file the chart shows. */
export interface ChartReport {
  readonly date: string;
  readonly machine: { readonly cpus: number };
  readonly options: {
    readonly playbook: string;
    readonly repeat: number;
    readonly skipTags: readonly string[];
  };
  readonly results: readonly ChartSize[];
}

function ratio2(r: number): string {
  return Number.isFinite(r) ? r.toFixed(2) : '-';
}

/** Floor, floor + shell checks, no-change and check --diff per host count, ratios underneath. */
export function resultsChart(r: ChartReport): string {
  const rs = r.results;
  const name = r.options.playbook.split('/').pop() ?? r.options.playbook;
  return barChart({
    title: `fleetbook: ${name} on converged lab hosts`,
    subtitle:
      `median wall time of ${r.options.repeat} interleaved rounds, ${r.machine.cpus} cores, ` +
      `${r.date.slice(0, 10)}; --skip-tags ${r.options.skipTags.join(',') || '(none)'}`,
    groups: rs.map((x) => `${x.hosts} hosts`),
    notes: rs.map((x) => [
      `no-change ${ratio2(x.noChangeRatio)}×, check ${ratio2(x.checkRatio)}× floor`,
      `${x.roundTripsPerHost.noChange.toFixed(1)} round trip/host, peak ${Math.max(x.peakRssMb.noChange, x.peakRssMb.check)} MB`,
    ]),
    series: [
      { label: 'floor (ssh, one command)', color: '#7a7a7a', values: rs.map((x) => x.floorMs) },
      { label: 'floor + shell checks', color: '#c0c0c0', values: rs.map((x) => x.floorChecksMs) },
      { label: 'no-change run', color: '#2b6cb0', values: rs.map((x) => x.noChangeMs) },
      { label: 'check --diff', color: '#dd8a1e', values: rs.map((x) => x.checkMs) },
    ],
  });
}
