// Turns the JSON lines of bench/compare.sh (bench/raw_bench.cc, `s3db bench`, bench/peer)
// into the markdown tables of BENCHMARKS.md: per concurrency, s3db against s3db.js step by
// step, and insert/get against the bare-request ceiling.
//
//   node bench/table.mjs FILE.jsonl
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/table.mjs FILE.jsonl');
  process.exit(2);
}
const runs = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const kindOf = (r) => (r.bench === 'raw' ? 'raw' : r.impl);

// Steps as both benches name them; list, getAll and query in records/s, the rest in calls/s.
const STEPS = [
  ['insert', 'ops'], ['get', 'ops'], ['update', 'ops'], ['list', 'records'], ['getAll', 'records'],
  ['count', 'ops'], ['listIds_partition', 'ops'], ['listIds_partition_verified', 'ops'],
  ['query', 'records'], ['delete', 'ops'],
];
const fmt = (x) => (x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}x`);
const rate = (r, step, unit) => r?.[`${step}_${unit === 'records' ? 'records' : 'ops'}_s`];

const byConcurrency = new Map();
for (const r of runs) {
  const c = r.concurrency;
  if (!byConcurrency.has(c)) byConcurrency.set(c, {});
  byConcurrency.get(c)[kindOf(r)] = r;
}

for (const [c, { raw, s3db, 's3db.js': js }] of [...byConcurrency].sort((a, b) => a[0] - b[0])) {
  const n = s3db?.n ?? js?.n;
  console.log(`\n### Concurrency ${c}, ${n} records, ${s3db?.uri ?? js?.uri ?? raw?.uri}\n`);
  console.log('| step | unit | s3db | s3db.js | s3db ÷ s3db.js | s3db requests | s3db.js requests |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [step, unit] of STEPS) {
    if (rate(s3db, step, unit) === undefined && rate(js, step, unit) === undefined) continue;
    const label = step === 'listIds_partition_verified' ? 'listIds_partition (verified, s3db only)' : step;
    console.log(`| ${label} | ${unit}/s | ${fmt(rate(s3db, step, unit))} | ${fmt(rate(js, step, unit))} | ` +
      `${ratio(rate(s3db, step, unit), rate(js, step, unit))} | ${fmt(s3db?.[`${step}_requests`])} | ` +
      `${fmt(js?.[`${step}_requests`])} |`);
  }
  if (!raw || !s3db) continue;
  console.log('\n| ceiling | bare requests/s | s3db ops/s | ops ÷ ceiling | s3db requests/s | requests ÷ ceiling |');
  console.log('|---|---|---|---|---|---|');
  for (const [step, bare] of [['insert', 'put'], ['get', 'get']]) {
    const requestsPerSecond = s3db[`${step}_requests`] / s3db[`${step}_seconds`];
    console.log(`| ${step} vs bare ${bare.toUpperCase()} | ${fmt(raw[`${bare}_ops_s`])} | ` +
      `${fmt(s3db[`${step}_ops_s`])} | ${ratio(s3db[`${step}_ops_s`], raw[`${bare}_ops_s`])} | ` +
      `${fmt(requestsPerSecond)} | ${ratio(requestsPerSecond, raw[`${bare}_ops_s`])} |`);
  }
}
