// The bench's outputs: a side-by-side text table, a Markdown table and a hand-written SVG chart
// (throughput vs write size, one line per transport; ping-pong latency bars).
import { TRANSPORTS, type BenchResult, type RowDecision, type Transport } from './types.js';

export const LABEL: Record<Transport, string> = { tcp: 'TCP (plain)', sockaccel: 'TCP + sockaccel', 'sockaccel-all': 'TCP + sockaccel, policy all', unix: 'AF_UNIX' };
export const SHORT: Record<Transport, string> = { tcp: 'TCP', sockaccel: 'sockaccel', 'sockaccel-all': 'all', unix: 'AF_UNIX' };
export const COLOR: Record<Transport, string> = { tcp: '#4e79a7', sockaccel: '#e15759', 'sockaccel-all': '#f28e2b', unix: '#59a14f' };

/** The transports a result has, in table order (results from before --compare-all have no list). */
export function transportsOf(r: BenchResult): Transport[] {
  return r.transports ?? TRANSPORTS.filter((t) => r.throughput.some((e) => e.transport === t));
}

/** "redirect" / "TCP: a stream of small writes" — what the policy did with a row. */
export function decisionCell(d: RowDecision | undefined): string {
  if (!d) return '-';
  if (d.verdict === 'accelerate') return 'redirected';
  if (d.verdict === 'probation') return 'TCP (probation)';
  return `TCP: ${d.reason}`;
}

export function formatSize(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / 1024 / 1024} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

const fx = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const gbpsCell = (x: number) => (x >= 10 ? fx(x, 1) : x >= 1 ? fx(x, 2) : fx(x, 3));

function get(r: BenchResult, t: Transport, size: number) {
  return r.throughput.find((e) => e.transport === t && e.size === size);
}

function sizesOf(r: BenchResult): number[] {
  return [...new Set(r.throughput.map((e) => e.size))].sort((a, b) => a - b);
}

/** Rows shared by the text and Markdown tables. */
function rows(r: BenchResult): { head: string[]; body: string[][]; latHead: string[]; latBody: string[][] } {
  const ts = transportsOf(r);
  const all = ts.includes('sockaccel-all');
  const head = ['write size', ...ts.map((t) => `${LABEL[t]} Gbit/s`), 'sockaccel / TCP', ...(all ? ['all / TCP'] : []), 'sockaccel / AF_UNIX', 'policy'];
  const body = sizesOf(r).map((size) => {
    const e = (t: Transport) => get(r, t, size);
    const cell = (x: ReturnType<typeof e>) => (x ? `${gbpsCell(x.gbps)} ±${Math.round(x.spread * 50)}%` : '-');
    const ratio = (a: ReturnType<typeof e>, b: ReturnType<typeof e>) => (a && b ? `${fx(a.gbps / b.gbps)}×` : '-');
    const [tcp, acc, unix] = [e('tcp'), e('sockaccel'), e('unix')];
    return [formatSize(size), ...ts.map((t) => cell(e(t))), ratio(acc, tcp), ...(all ? [ratio(e('sockaccel-all'), tcp)] : []), ratio(acc, unix), decisionCell(acc?.decision)];
  });
  const latHead = ['ping-pong', 'p50 µs', 'p99 µs', 'p50 vs TCP', 'policy'];
  const tcpLat = r.latency.find((l) => l.transport === 'tcp');
  const latBody = r.latency.map((l) => [`${LABEL[l.transport]}, ${formatSize(l.size)}`, fx(l.p50Us, 1), fx(l.p99Us, 1),
    tcpLat ? `${fx(l.p50Us / tcpLat.p50Us)}×` : '-', l.transport === 'sockaccel' ? decisionCell(l.decision) : '']);
  return { head, body, latHead, latBody };
}

function textTable(head: string[], body: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

export function machineLine(r: BenchResult): string {
  const m = r.machine;
  return `${m.cpu}, ${m.cpus} CPU${m.cpus === 1 ? '' : 's'}, ${m.memoryGiB} GiB, Linux ${m.kernel} (${m.arch})${m.virtualized ? ', virtual machine' : ''}; node ${m.node}`;
}

function settingsLine(r: BenchResult): string {
  const s = r.settings;
  return `median of ${s.rounds} rounds of ${s.duration} s per transport and size, interleaved; ±: half the min-max spread over the rounds`;
}

function countersLines(r: BenchResult): string[] {
  const line = (name: string, c: BenchResult['sockaccel']) =>
    `${name}: ${c.redirectedBytes} bytes redirected, ${c.passedBytes} passed to TCP, ${c.misses} misses` +
    (c.decisions ? `; sockets by decision: ${Object.entries(c.decisions).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}` : '');
  return [line('sockaccel (policy learn)', r.sockaccel), ...(r.sockaccelAll ? [line('sockaccel (policy all)', r.sockaccelAll)] : [])];
}

export function renderText(r: BenchResult): string {
  const { head, body, latHead, latBody } = rows(r);
  return [
    `Throughput (one direction, writes of the given size)`,
    textTable(head, body),
    '',
    `Request/response latency (ping-pong, one message each way)`,
    textTable(latHead, latBody),
    '',
    settingsLine(r),
    `machine: ${machineLine(r)}`,
    ...countersLines(r),
  ].join('\n');
}

function mdTable(head: string[], body: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${head.map(esc).join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...body.map((b) => `| ${b.map(esc).join(' | ')} |`)].join('\n');
}

export function renderMarkdown(r: BenchResult): string {
  const { head, body, latHead, latBody } = rows(r);
  return [
    mdTable(head, body),
    '',
    mdTable(latHead, latBody),
    '',
    `${settingsLine(r)}. Machine: ${machineLine(r)}.`,
    '',
  ].join('\n');
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A "nice" axis maximum and step for values up to `max`. */
export function niceAxis(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

const num = (x: number) => Number(x.toFixed(2)).toString();

/** Log-axis range and 1-2-5 ticks covering [min, max] (Gbit/s). */
export function logTicks(min: number, max: number): { lo: number; hi: number; ticks: number[] } {
  const steps = [1, 2, 5];
  const lo0 = Math.max(min > 0 ? min : 0.001, 1e-4);
  const hi0 = Math.max(max, lo0 * 2);
  let lo = 10 ** Math.floor(Math.log10(lo0));
  for (const k of steps) if (k * 10 ** Math.floor(Math.log10(lo0)) <= lo0) lo = k * 10 ** Math.floor(Math.log10(lo0));
  const ticks: number[] = [];
  let hi = lo;
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi0)) && ticks.length < 40; e++) {
    for (const k of steps) {
      const v = Number((k * 10 ** e).toPrecision(3));
      if (v < lo - 1e-12) continue;
      ticks.push(v);
      hi = v;
      if (v >= hi0) return { lo, hi, ticks };
    }
  }
  return { lo, hi, ticks };
}

export function renderSvg(r: BenchResult): string {
  const W = 980, H = 480;
  const out: string[] = [];
  const text = (x: number, y: number, s: string, attrs = '') =>
    out.push(`<text x="${num(x)}" y="${num(y)}"${attrs ? ' ' + attrs : ''}>${xmlEscape(s)}</text>`);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  text(W / 2, 24, 'Same-host stream throughput and ping-pong latency', 'text-anchor="middle" font-size="16" font-weight="bold"');
  text(W / 2, H - 10, machineLine(r), 'text-anchor="middle" font-size="11" fill="#555"');

  // Left: throughput vs write size (log2 x axis).
  const L = { x: 70, y: 84, w: 520, h: 320 };
  const sizes = sizesOf(r);
  // Log y axis: 128 B writes move ~100x fewer bits than 64 KiB ones, and both matter.
  const yt = logTicks(Math.min(...r.throughput.map((e) => e.gbpsMin)), Math.max(...r.throughput.map((e) => e.gbpsMax)));
  const lx = (size: number) => {
    if (sizes.length === 1) return L.x + L.w / 2;
    const a = Math.log2(sizes[0]!), b = Math.log2(sizes[sizes.length - 1]!);
    return L.x + 20 + ((Math.log2(size) - a) / (b - a)) * (L.w - 40);
  };
  const ly = (g: number) => L.y + L.h - ((Math.log10(Math.max(g, yt.lo)) - Math.log10(yt.lo)) / (Math.log10(yt.hi) - Math.log10(yt.lo))) * L.h;
  text(L.x + L.w / 2, L.y - 12, 'Throughput, one direction (Gbit/s, log scale; higher is better)', 'text-anchor="middle" font-size="13" font-weight="bold"');
  for (const v of yt.ticks) {
    out.push(`<line x1="${L.x}" y1="${num(ly(v))}" x2="${L.x + L.w}" y2="${num(ly(v))}" stroke="#e5e5e5"/>`);
    text(L.x - 6, ly(v) + 4, num(v), 'text-anchor="end" fill="#333"');
  }
  out.push(`<rect x="${L.x}" y="${L.y}" width="${L.w}" height="${L.h}" fill="none" stroke="#999"/>`);
  for (const size of sizes) {
    out.push(`<line x1="${num(lx(size))}" y1="${L.y + L.h}" x2="${num(lx(size))}" y2="${L.y + L.h + 5}" stroke="#999"/>`);
    text(lx(size), L.y + L.h + 18, formatSize(size), 'text-anchor="middle" fill="#333"');
  }
  text(L.x + L.w / 2, L.y + L.h + 36, 'write size (bytes per write, log scale)', 'text-anchor="middle" fill="#333"');
  text(18, L.y + L.h / 2, 'Gbit/s', `text-anchor="middle" fill="#333" transform="rotate(-90 18 ${L.y + L.h / 2})"`);
  for (const t of transportsOf(r)) {
    const pts = sizes.map((s) => get(r, t, s)).filter((e) => !!e);
    if (pts.length > 1) {
      out.push(`<polyline fill="none" stroke="${COLOR[t]}" stroke-width="2.5" points="${pts.map((e) => `${num(lx(e.size))},${num(ly(e.gbps))}`).join(' ')}"/>`);
    }
    for (const e of pts) {
      // min-max whisker over the rounds, then the median point
      out.push(`<line x1="${num(lx(e.size))}" y1="${num(ly(e.gbpsMin))}" x2="${num(lx(e.size))}" y2="${num(ly(e.gbpsMax))}" stroke="${COLOR[t]}" stroke-width="1.5"/>`);
      out.push(`<circle cx="${num(lx(e.size))}" cy="${num(ly(e.gbps))}" r="4" fill="${COLOR[t]}"><title>${xmlEscape(`${LABEL[t]} ${formatSize(e.size)}: ${e.gbps} Gbit/s (rounds ${e.gbpsMin}..${e.gbpsMax})`)}</title></circle>`);
    }
  }
  // legend, top-left inside the plot
  transportsOf(r).forEach((t, i) => {
    const y = L.y + 18 + i * 18;
    out.push(`<rect x="${L.x + 12}" y="${y - 9}" width="18" height="4" fill="${COLOR[t]}"/>`);
    text(L.x + 36, y - 3, LABEL[t], 'fill="#222"');
  });

  // Right: latency bars (p50 solid, p99 light), per transport.
  const R = { x: 690, y: 84, w: 260, h: 320 };
  const lat = r.latency;
  const lmax = niceAxis(Math.max(...lat.map((l) => l.p99Us), 0.001));
  const ry = (us: number) => R.y + R.h - (us / lmax.top) * R.h;
  const size = lat[0]?.size ?? 0;
  text(R.x + R.w / 2, R.y - 26, `Ping-pong ${formatSize(size)} round trip (µs)`, 'text-anchor="middle" font-size="13" font-weight="bold"');
  text(R.x + R.w / 2, R.y - 10, 'lower is better', 'text-anchor="middle" fill="#555"');
  for (let v = 0; v <= lmax.top + 1e-9; v += lmax.step) {
    out.push(`<line x1="${R.x}" y1="${num(ry(v))}" x2="${R.x + R.w}" y2="${num(ry(v))}" stroke="#e5e5e5"/>`);
    text(R.x - 6, ry(v) + 4, num(v), 'text-anchor="end" fill="#333"');
  }
  out.push(`<rect x="${R.x}" y="${R.y}" width="${R.w}" height="${R.h}" fill="none" stroke="#999"/>`);
  const slot = R.w / Math.max(lat.length, 1);
  lat.forEach((l, i) => {
    const x0 = R.x + i * slot + slot * 0.15, bw = slot * 0.32;
    out.push(`<rect x="${num(x0)}" y="${num(ry(l.p50Us))}" width="${num(bw)}" height="${num(R.y + R.h - ry(l.p50Us))}" fill="${COLOR[l.transport]}"><title>p50 ${l.p50Us} µs</title></rect>`);
    out.push(`<rect x="${num(x0 + bw + 2)}" y="${num(ry(l.p99Us))}" width="${num(bw)}" height="${num(R.y + R.h - ry(l.p99Us))}" fill="${COLOR[l.transport]}" fill-opacity="0.4"><title>p99 ${l.p99Us} µs</title></rect>`);
    text(x0 + bw / 2, ry(l.p50Us) - 4, num(Math.round(l.p50Us * 10) / 10), 'text-anchor="middle" font-size="10" fill="#222"');
    text(x0 + bw * 1.5 + 2, ry(l.p99Us) - 4, num(Math.round(l.p99Us * 10) / 10), 'text-anchor="middle" font-size="10" fill="#555"');
    text(R.x + i * slot + slot / 2, R.y + R.h + 18, SHORT[l.transport], 'text-anchor="middle" fill="#333"');
  });
  text(R.x + R.w / 2, R.y + R.h + 36, 'solid: p50, light: p99', 'text-anchor="middle" fill="#333"');
  out.push('</svg>');
  return out.join('\n') + '\n';
}
