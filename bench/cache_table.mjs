// Turns the JSON lines of bench/cache_compare.sh (`s3db bench --workload cached-get` and
// bench/peer's `--workload cached-get`) into the markdown table of BENCHMARKS.md: per
// concurrency, uncached get, get filling the cache and cached get of both implementations,
// each the median of its rounds, and the two ratios issue 19 sets goals for.
//
//   node bench/cache_table.mjs FILE.jsonl
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/cache_table.mjs FILE.jsonl');
  process.exit(2);
}
const runs = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
  .filter((r) => r.workload === 'cached-get');
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!s.length) return undefined;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x) => (x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(1)}x`);

const byConcurrency = new Map();  // concurrency -> impl -> runs
for (const r of runs) {
  if (!byConcurrency.has(r.concurrency)) byConcurrency.set(r.concurrency, {});
  (byConcurrency.get(r.concurrency)[r.impl] ??= []).push(r);
}
const STEPS = [['get', 'get, uncached'], ['get_fill', 'get, filling the cache'], ['get_cached', 'get, cached']];
let failed = false;
for (const [c, impls] of [...byConcurrency].sort((a, b) => a[0] - b[0])) {
  const ours = impls.s3db ?? [];
  const js = impls['s3db.js'] ?? [];
  const m = (list, step) => median(list.map((r) => r[`${step}_ops_s`]));
  const rounds = Math.max(ours.length, js.length);
  const any = ours[0] ?? js[0];
  console.log(`\n### Concurrency ${c}, ${any.n} records, ${any.uri}, redis driver; median of ${rounds} rounds (ops/s)\n`);
  console.log('| step | s3db | s3db.js | s3db / s3db.js |');
  console.log('|---|---:|---:|---:|');
  for (const [step, label] of STEPS) {
    console.log(`| ${label} | ${fmt(m(ours, step))} | ${fmt(m(js, step))} | ${ratio(m(ours, step), m(js, step))} |`);
  }
  console.log(`| cached / uncached | ${ratio(m(ours, 'get_cached'), m(ours, 'get'))} | ` +
    `${ratio(m(js, 'get_cached'), m(js, 'get'))} | |`);
  const errors = [...ours, ...js].reduce((a, r) => a + (r.errors ?? 0), 0);
  if (errors) {
    console.log(`\n${errors} errors in these runs (see the JSON lines)`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
