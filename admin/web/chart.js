// A tiny SVG chart for the dashboard's time series (no chart library). Bars or stacked bars for
// counts, a line with an area for tokens; hover titles give each bucket's exact numbers. Sizes
// are SVG attributes (the page's CSP forbids inline styles); colours come from CSS classes.
// niceScale() is pure and unit-tested.

const NS = 'http://www.w3.org/2000/svg';

/**
 * A round axis for values up to `max`: {max, step, ticks} with about `count` steps of 1, 2 or 5
 * times a power of ten (never below 1: the charts count things). max <= 0 gives the axis 0..1.
 */
export function niceScale(max, count = 4) {
  if (!(max > 0)) return {max: 1, step: 1, ticks: [0, 1]};
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw));
  const top = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return {max: top, step, ticks};
}

function el(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Draws a chart into `container` (its content is replaced). opts:
 *   points   [{t, ...values}] oldest first
 *   series   [{key, label, cls}]; kind 'stack' stacks them as bars, 'line' draws the first one
 *   kind     'stack' | 'line'
 *   fmtX(t)  axis/tooltip label of a bucket start; fmtY(v) value label
 *   ariaLabel  text for screen readers
 */
export function drawChart(container, opts) {
  const {points, series, kind = 'stack', fmtX, fmtY, ariaLabel = ''} = opts;
  const W = 640, H = 200, L = 48, R = 10, T = 10, B = 26;
  const pw = W - L - R, ph = H - T - B;
  const svg = el('svg', {viewBox: `0 0 ${W} ${H}`, class: `chart chart-${kind}`, role: 'img',
                         'aria-label': ariaLabel, preserveAspectRatio: 'none'});
  const total = (p) => (kind === 'stack' ? series.reduce((s, x) => s + (p[x.key] || 0), 0)
                                         : p[series[0].key] || 0);
  const max = points.reduce((m, p) => Math.max(m, total(p)), 0);
  const scale = niceScale(max);
  const y = (v) => T + ph - (v / scale.max) * ph;
  for (const tick of scale.ticks) {
    svg.append(el('line', {x1: L, x2: W - R, y1: y(tick), y2: y(tick), class: 'chart-gridline'}));
    svg.append(el('text', {x: L - 6, y: y(tick) + 4, class: 'chart-label', 'text-anchor': 'end'},
                  fmtY(tick)));
  }
  const n = Math.max(points.length, 1);
  const bw = pw / n;
  const labelEvery = Math.max(1, Math.ceil(n / 6));
  points.forEach((p, i) => {
    if (i % labelEvery === 0) {
      svg.append(el('text', {x: L + i * bw + bw / 2, y: H - 8, class: 'chart-label',
                             'text-anchor': 'middle'}, fmtX(p.t)));
    }
  });
  if (kind === 'stack') {
    points.forEach((p, i) => {
      let base = 0;
      for (const s of series) {
        const v = p[s.key] || 0;
        if (v > 0) {
          const h = (v / scale.max) * ph;
          svg.append(el('rect', {x: L + i * bw + bw * 0.12, width: Math.max(1, bw * 0.76),
                                 y: y(base) - h, height: h, class: `chart-bar ${s.cls}`}));
        }
        base += v;
      }
    });
  } else if (points.length) {
    const s = series[0];
    const xy = points.map((p, i) => [L + i * bw + bw / 2, y(p[s.key] || 0)]);
    const line = xy.map(([a, b], i) => `${i ? 'L' : 'M'}${a.toFixed(1)},${b.toFixed(1)}`).join('');
    const area = `${line}L${xy.at(-1)[0].toFixed(1)},${y(0)}L${xy[0][0].toFixed(1)},${y(0)}Z`;
    svg.append(el('path', {d: area, class: `chart-area ${s.cls}`}));
    svg.append(el('path', {d: line, class: `chart-line ${s.cls}`}));
  }
  // Invisible hover targets, one per bucket, carrying the exact numbers.
  points.forEach((p, i) => {
    const hit = el('rect', {x: L + i * bw, y: T, width: bw, height: ph, class: 'chart-hit'});
    const lines = [fmtX(p.t), ...series.map((s) => `${s.label}: ${fmtY(p[s.key] || 0)}`)];
    hit.append(el('title', {}, lines.join('\n')));
    svg.append(hit);
  });
  svg.append(el('line', {x1: L, x2: W - R, y1: y(0), y2: y(0), class: 'chart-axis'}));
  container.replaceChildren(svg);
  return svg;
}
