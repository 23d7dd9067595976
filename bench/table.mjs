// Turns the JSON lines of bench/compare.sh (bench/raw_bench.cc, `s3db bench`, bench/peer)
// into the markdown tables of BENCHMARKS.md: per concurrency, s3db against s3db.js step by
// step, and insert/get against the bare-request ceiling. With several runs of one
// implementation at one concurrency (rounds), each figure is the median of its runs.
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

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
// One run per implementation: numbers are the medians over its runs, the rest as in the first.
const mergeRuns = (list) => {
  const merged = { ...list[0], rounds: list.length };
  for (const key of Object.keys(list[0])) {
    const values = list.map((r) => r[key]);
    if (values.every((v) => typeof v === 'number')) merged[key] = median(values);
  }
  return merged;
};

const grouped = new Map();  // concurrency -> kind -> runs
for (const r of runs) {
  if (!grouped.has(r.concurrency)) grouped.set(r.concurrency, {});
  (grouped.get(r.concurrency)[kindOf(r)] ??= []).push(r);
}
const byConcurrency = new Map(
  [...grouped].map(([c, kinds]) => [c, Object.fromEntries(Object.entries(kinds).map(([k, l]) => [k, mergeRuns(l)]))]));

// The bare request that bounds a step, for the steps that have one: the step's requests per
// second are set against the bare rate (count lists keys: its records/s against LIST keys/s).
const CEILING = {
  insert: ['put_ops_s', 'PUT'], get: ['get_ops_s', 'GET'], list: ['get_ops_s', 'GET'],
  getAll: ['get_ops_s', 'GET'], query: ['get_ops_s', 'GET'], count: ['list_keys_s', 'LIST keys'],
};

for (const [c, { raw, s3db, 's3db.js': js }] of [...byConcurrency].sort((a, b) => a[0] - b[0])) {
  if (!raw && !js) continue;  // a before/after run only: its table is below
  const n = s3db?.n ?? js?.n;
  const rounds = Math.max(...[raw, s3db, js].map((r) => r?.rounds ?? 0));
  console.log(`\n### Concurrency ${c}, ${n} records, ${s3db?.uri ?? js?.uri ?? raw?.uri}` +
    `${rounds > 1 ? ` (medians of ${rounds} rounds)` : ''}\n`);
  console.log('| step | unit | s3db | s3db.js | s3db ÷ s3db.js | s3db requests | s3db.js requests | ' +
    'bare ceiling (/s) | s3db ÷ ceiling |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [step, unit] of STEPS) {
    if (rate(s3db, step, unit) === undefined && rate(js, step, unit) === undefined) continue;
    const label = step === 'listIds_partition_verified' ? 'listIds_partition, verified (s3db only)' : step;
    let ceiling = '–';
    let share = '–';
    if (raw && s3db && CEILING[step] && raw[CEILING[step][0]] !== undefined) {
      const [key, what] = CEILING[step];
      // requests/s for request steps; records/s for count (one LIST serves 1000 keys).
      const achieved = step === 'count' ? s3db.count_records_s : s3db[`${step}_requests`] / s3db[`${step}_seconds`];
      ceiling = `${fmt(raw[key])} ${what}`;
      share = `${ratio(achieved, raw[key])}${step === 'count' ? ' (keys/s)' : ' (requests/s)'}`;
    }
    console.log(`| ${label} | ${unit}/s | ${fmt(rate(s3db, step, unit))} | ${fmt(rate(js, step, unit))} | ` +
      `${ratio(rate(s3db, step, unit), rate(js, step, unit))} | ${fmt(s3db?.[`${step}_requests`])} | ` +
      `${fmt(js?.[`${step}_requests`])} | ${ceiling} | ${share} |`);
  }
}

// Before/after: this build's s3db against an earlier one (compare.sh's "before"), step by step.
for (const [c, { before, s3db }] of [...byConcurrency].sort((a, b) => a[0] - b[0])) {
  if (!before || !s3db) continue;
  const rounds = Math.max(before.rounds ?? 0, s3db.rounds ?? 0);
  console.log(`\n### Before and after, concurrency ${c}, ${s3db.n} records, ${s3db.uri}` +
    `${rounds > 1 ? ` (medians of ${rounds} rounds)` : ''}\n`);
  console.log('| step | unit | before | after | after ÷ before | requests before | requests after |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [step, unit] of STEPS) {
    if (rate(s3db, step, unit) === undefined && rate(before, step, unit) === undefined) continue;
    console.log(`| ${step} | ${unit}/s | ${fmt(rate(before, step, unit))} | ${fmt(rate(s3db, step, unit))} | ` +
      `${ratio(rate(s3db, step, unit), rate(before, step, unit))} | ${fmt(before[`${step}_requests`])} | ` +
      `${fmt(s3db[`${step}_requests`])} |`);
  }
}
