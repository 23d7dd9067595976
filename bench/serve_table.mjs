// The table of bench/serve_compare.sh: for each store and number of connections, requests/s
// through `s3db serve` (wrk) beside ops/s of the same operation in-process (`s3db bench`),
// and their ratio; medians when there are several rounds. Markdown on stdout.
//
//   node bench/serve_table.mjs RESULTS.jsonl
import { readFileSync } from "node:fs";

const lines = readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.trim().startsWith("{"));
const rows = lines.map((l) => JSON.parse(l));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : "–");

const stores = [...new Set(rows.map((r) => r.store))];
for (const store of stores) {
  const mine = rows.filter((r) => r.store === store);
  const connections = [...new Set(mine.map((r) => r.connections))].sort((a, b) => a - b);
  const rounds = Math.max(...connections.map((c) => mine.filter((r) => r.connections === c && r.mode === "get").length));
  console.log(`#### ${store}${rounds > 1 ? ` (medians of ${rounds} rounds)` : ""}\n`);
  console.log("| connections | served GET /v1/users/{id} (/s) | in-process get (/s) | served ÷ in-process | served POST /v1/users (/s) | in-process insert (/s) | served ÷ in-process | GET p50 / p99 (ms) | failed requests | load average |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const c of connections) {
    const at = mine.filter((r) => r.connections === c);
    const get = median(at.filter((r) => r.mode === "get").map((r) => r.rps));
    const post = median(at.filter((r) => r.mode === "post").map((r) => r.rps));
    const inproc = at.filter((r) => r.impl === "in-process");
    const inGet = median(inproc.map((r) => r.get_ops_s));
    const inInsert = median(inproc.map((r) => r.insert_ops_s));
    const gets = at.filter((r) => r.mode === "get");
    const p50 = median(gets.map((r) => r.p50_ms));
    const p99 = median(gets.map((r) => r.p99_ms));
    const failed = at.reduce((n, r) => n + (r.unexpected ?? 0) + (r.socket_errors ?? 0) + (r.errors ?? 0), 0);
    const loads = at.flatMap((r) => [r.load_before, r.load_after]).filter(Number.isFinite);
    console.log(`| ${c} | ${fmt(get)} | ${fmt(inGet)} | ${ratio(get, inGet)} | ${fmt(post)} | ${fmt(inInsert)} | ${ratio(post, inInsert)} | ${p50.toFixed(2)} / ${p99.toFixed(2)} | ${failed} | ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} |`);
  }
  console.log("");
}
