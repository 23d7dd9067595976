#!/usr/bin/env node
// The s3db benchmark workload (issue 9) run with the JavaScript reference implementation
// s3db.js, so that our C++ figures can be put next to it in one run.
//
//   node bench/peer/bench.mjs --uri URI --n N --concurrency C
//
// URI: memory://bench (s3db.js's MemoryClient) or http://KEY:SECRET@HOST:PORT/bucket[/prefix]
// (an S3 endpoint such as Ceph RGW on loopback). Prints exactly one JSON line on stdout;
// progress and diagnostics go to stderr. The workload, the data generator, the way S3
// requests are counted and every s3db.js setting used here are specified in README.md
// beside this file; keep the two in step.

import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';

import { COUNTRIES, makeRecord, recordId, updatedAge } from './data.mjs';

// ---------------------------------------------------------------- command line

const USAGE = `usage: node bench/peer/bench.mjs --uri URI --n N --concurrency C [options]

  --uri URI          memory://bench, or http://KEY:SECRET@HOST:PORT/bucket[/prefix]
  --n N              records (default 1000; at most 999999)
  --concurrency C    operations in flight within a step (default 1)
  --prefix P         S3 only: key prefix for this run inside the bucket
                     (default bench-peer-<time>-<pid>; "" to use the URI's own path)
  --keep             S3 only: do not delete the run's objects at the end
  --executor K       S3 only: turn on s3db.js's own executor pool (TasksPool) with
                     concurrency K instead of leaving it off (see README "Fairness": in
                     21.6.2 it deadlocks on deletes until its 30 s task timeout)
  --s3db-retries     with --executor: keep s3db.js's Database default of retrying every
                     failed request (404s too) instead of only transient errors
  --sync-partitions  asyncPartitions:false (partition references written before an
                     operation returns) instead of s3db.js's default (true)
  --workload W       crud (default: every step) or cached-get (insert; get uncached; then
                     with CachePlugin driver redis: get filling the cache, get from it);
                     bulk (insertMany, getMany, getAll, export, count, query; issue 21);
                     load (insertMany only, objects kept: the data of a scan run);
                     scan (count, query, export of the users resource already at --prefix,
                     written by a load run; nothing written or deleted; issue 24)
  --redis URI        cached-get: redis://[user:password@]host:port[/db] for the CachePlugin
  --steps A,B        bulk and scan: only these of getMany, getAll, export, count, query
  -h, --help         this text`;

const WORKLOADS = ['crud', 'cached-get', 'bulk', 'load', 'scan'];

function parseArgs(argv) {
  const o = {
    uri: null, n: 1000, concurrency: 1, prefix: null, keep: false, executor: 0,
    s3dbRetries: false, syncPartitions: false, workload: 'crud', redis: null, steps: null,
  };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    const val = () => {
      if (k + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++k];
    };
    switch (a) {
      case '--uri': o.uri = val(); break;
      case '--n': o.n = Number(val()); break;
      case '--concurrency': case '-c': o.concurrency = Number(val()); break;
      case '--prefix': o.prefix = val(); break;
      case '--keep': o.keep = true; break;
      case '--executor': o.executor = Number(val()); break;
      case '--s3db-retries': o.s3dbRetries = true; break;
      case '--sync-partitions': o.syncPartitions = true; break;
      case '--workload': o.workload = val(); break;
      case '--redis': o.redis = val(); break;
      case '--steps': o.steps = val().split(',').filter(Boolean); break;
      case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0);
      default: die(`unknown argument ${a}\n${USAGE}`);
    }
  }
  if (!o.uri) die(`--uri is required\n${USAGE}`);
  if (!Number.isInteger(o.n) || o.n < 1 || o.n > 999999) die('--n must be an integer in 1..999999');
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) die('--concurrency must be a positive integer');
  if (!Number.isInteger(o.executor) || o.executor < 0) die('--executor must be a non-negative integer');
  if (!WORKLOADS.includes(o.workload)) die(`--workload must be one of ${WORKLOADS.join(', ')}`);
  if ((o.workload === 'load' || o.workload === 'scan') && !o.prefix) die(`--workload ${o.workload} needs --prefix`);
  if (o.workload === 'load' || o.workload === 'scan') o.keep = true;
  if (o.workload === 'cached-get' && !/^redis:\/\//.test(o.redis ?? '')) die('--workload cached-get needs --redis redis://...');
  return o;
}

function die(msg) {
  process.stderr.write(`bench.mjs: ${msg}\n`);
  process.exit(2);
}

const log = (msg) => process.stderr.write(`[s3db.js bench] ${msg}\n`);

// ---------------------------------------------------------------- request counting

// Every S3 request is counted where it is made:
//  * S3 endpoints: the AWS SDK v3 client's request handler (client.config.requestHandler,
//    the SDK's NodeHttpHandler) is wrapped, so each HTTP request on the wire, SDK retries
//    included, is counted once, by operation and by HTTP status.
//  * memory://: the MemoryStorage behind s3db.js's MemoryClient is wrapped; each storage
//    operation counts as one request (put/get/head/copy/delete/deleteMultiple/list/exists),
//    nested calls inside copy (a put) and deleteMultiple (deletes) are not counted again.
class RequestCounter {
  constructor() {
    this.total = 0;
    this.byOp = {};
    this.errors = 0; // HTTP status >= 400 (S3) or a thrown storage error (memory)
    this.inflight = 0;
  }
  start(op) {
    this.total++;
    this.byOp[op] = (this.byOp[op] || 0) + 1;
    this.inflight++;
  }
  end(failed) {
    this.inflight--;
    if (failed) this.errors++;
  }
  snapshot() {
    return { total: this.total, byOp: { ...this.byOp }, errors: this.errors };
  }
  static diff(a, b) {
    const byOp = {};
    for (const [k, v] of Object.entries(b.byOp)) {
      const d = v - (a.byOp[k] || 0);
      if (d) byOp[k] = d;
    }
    return { total: b.total - a.total, byOp, errors: b.errors - a.errors };
  }
}

function s3OpName(req) {
  const q = req.query || {};
  const h = req.headers || {};
  const has = (name) => Object.keys(h).some((k) => k.toLowerCase() === name);
  switch (req.method) {
    case 'GET': return 'list-type' in q ? 'ListObjectsV2' : ('uploads' in q ? 'ListMultipartUploads' : 'GetObject');
    case 'HEAD': return 'HeadObject';
    case 'PUT': return has('x-amz-copy-source') ? 'CopyObject' : 'PutObject';
    case 'DELETE': return 'DeleteObject';
    case 'POST': return 'delete' in q ? 'DeleteObjects' : 'POST';
    default: return req.method;
  }
}

function instrumentS3Client(s3dbClient, counter) {
  const sdk = s3dbClient.client; // @aws-sdk/client-s3 S3Client
  const handler = sdk?.config?.requestHandler;
  if (!handler || typeof handler.handle !== 'function') {
    throw new Error('cannot find the AWS SDK request handler to count requests');
  }
  const orig = handler.handle.bind(handler);
  handler.handle = async (request, options) => {
    const op = s3OpName(request);
    counter.start(op);
    let failed = true;
    try {
      const out = await orig(request, options);
      failed = (out?.response?.statusCode ?? 0) >= 400;
      // GetObject hands the response stream to s3db.js, which reads it only when
      // ContentLength > 0; an unread (even empty) node:http response keeps its socket out
      // of the agent's pool for good, and with maxSockets sockets all held the run hangs.
      // So read the body here (as a buffering client such as recker does) and hand the
      // SDK a Readable over the bytes. See README "HTTP handler".
      const body = out?.response?.body;
      if (op === 'GetObject' && body && typeof body[Symbol.asyncIterator] === 'function') {
        const chunks = [];
        for await (const chunk of body) chunks.push(chunk);
        out.response.body = Readable.from(chunks.length ? [Buffer.concat(chunks)] : []);
      }
      return out;
    } finally {
      counter.end(failed);
    }
  };
  return handler.constructor?.name || 'handler';
}

function instrumentMemoryClient(memClient, counter) {
  const storage = memClient.storage;
  const nested = new AsyncLocalStorage();
  const ops = { put: 'PutObject', get: 'GetObject', head: 'HeadObject', copy: 'CopyObject',
    delete: 'DeleteObject', deleteMultiple: 'DeleteObjects', list: 'ListObjectsV2', exists: 'HeadObject' };
  for (const [m, op] of Object.entries(ops)) {
    const orig = storage[m];
    if (typeof orig !== 'function') throw new Error(`MemoryStorage has no ${m}()`);
    storage[m] = function (...args) {
      if (nested.getStore()) return orig.apply(this, args);
      counter.start(op);
      let res;
      try {
        res = nested.run(true, () => orig.apply(this, args));
      } catch (e) {
        counter.end(true);
        throw e;
      }
      if (res && typeof res.then === 'function') {
        return res.then((v) => { counter.end(false); return v; }, (e) => { counter.end(true); throw e; });
      }
      counter.end(false);
      return res;
    };
  }
}

// At most C requests on the wire: give the SDK's NodeHttpHandler keep-alive agents with
// maxSockets = C (its default is 50); further requests queue in the agent.
function limitSockets(s3dbClient, c) {
  const handler = s3dbClient.client?.config?.requestHandler;
  if (!handler || typeof handler.updateHttpClientConfig !== 'function') {
    throw new Error('cannot set the AWS SDK HTTP agent (no NodeHttpHandler)');
  }
  const old = handler.httpHandlerConfigs?.() ?? {};
  handler.updateHttpClientConfig('httpAgent', new http.Agent({ keepAlive: true, maxSockets: c }));
  handler.updateHttpClientConfig('httpsAgent', new https.Agent({ keepAlive: true, maxSockets: c }));
  old.httpAgent?.destroy?.();
  old.httpsAgent?.destroy?.();
}

// Wait until s3db.js's background work (asyncPartitions reference writes/deletes scheduled
// with setImmediate) has finished: no request in flight, the executor queue empty, and no
// new request started, over 3 consecutive checks 1 ms apart.
async function drain(db, counter) {
  let stable = 0;
  let lastTotal = -1;
  const deadline = Date.now() + 120000;
  while (stable < 3) {
    await new Promise((r) => setTimeout(r, 1));
    const qs = typeof db.client.getQueueStats === 'function' ? db.client.getQueueStats() : null;
    const busy = counter.inflight > 0 || (qs && ((qs.activeCount ?? 0) > 0 || (qs.queueSize ?? 0) > 0));
    if (!busy && counter.total === lastTotal) stable++;
    else stable = 0;
    lastTotal = counter.total;
    if (Date.now() > deadline) { log('drain: gave up after 120 s'); return; }
  }
}

// What a step costs the client (issue 21): CPU seconds (user + system) of this process over
// the step, its peak thread count, sampled from /proc/self/status every 50 ms (Linux only;
// null elsewhere), and its peak RSS so far (getrusage's maxrss: the process's high-water
// mark, which only rises, so a step's figure is the peak of that step and all before it).
class ProcessSampler {
  constructor() {
    this.cpu = process.cpuUsage();
    this.peakThreads = ProcessSampler.threads();
    this.timer = setInterval(() => {
      const t = ProcessSampler.threads();
      if (t !== null && (this.peakThreads === null || t > this.peakThreads)) this.peakThreads = t;
    }, 50);
  }
  static threads() {
    try {
      const m = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
      return m ? Number(m[1]) : null;
    } catch {
      return null;
    }
  }
  stop() {
    clearInterval(this.timer);
    const t = ProcessSampler.threads();
    if (t !== null && (this.peakThreads === null || t > this.peakThreads)) this.peakThreads = t;
    const d = process.cpuUsage(this.cpu);
    return { cpuSeconds: (d.user + d.system) / 1e6, peakThreads: this.peakThreads, peakRssMb: process.resourceUsage().maxRSS / 1024 };
  }
}

// ---------------------------------------------------------------- promise pool

async function runPool(count, concurrency, fn, errs) {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      try {
        await fn(i);
      } catch (e) {
        errs.push({ i, error: e });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

// ---------------------------------------------------------------- URI

function maskUri(uri) {
  try {
    const u = new URL(uri);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, uri.endsWith('/') ? '/' : '');
  } catch {
    return uri.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

// http(s)://KEY:SECRET@host:port/bucket[/prefix] -> the same with the run prefix appended
function withRunPrefix(uri, prefix) {
  if (!prefix) return uri;
  const u = new URL(uri);
  const parts = u.pathname.split('/').filter(Boolean);
  if (parts.length === 0) parts.push('s3db');
  parts.push(...prefix.split('/').filter(Boolean));
  u.pathname = '/' + parts.join('/');
  return u.toString();
}

// ---------------------------------------------------------------- main

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const isMemory = opt.uri.startsWith('memory://');
  const isS3 = /^https?:\/\//.test(opt.uri);
  if (!isMemory && !isS3) die('--uri must be memory://... or http(s)://KEY:SECRET@host:port/bucket');

  // s3db.js logs with pino to stdout; keep stdout for the result line only (silent). The
  // JSON format avoids the pino-pretty transport (a worker thread) s3db.js starts otherwise.
  process.env.S3DB_LOG_FORMAT = 'json';
  process.env.S3DB_LOG_LEVEL = 'silent';
  // Nothing else may reach stdout either.
  console.log = console.info = console.debug = (...a) => console.error(...a);

  const { S3db, getVersion, MemoryClient } = await import('s3db.js');
  const version = typeof getVersion === 'function' ? getVersion() : 'unknown';

  const C = opt.concurrency;
  const N = opt.n;
  let connectionString = opt.uri;
  let runPrefix = '';
  if (isS3) {
    runPrefix = opt.prefix ?? `bench-peer-${Date.now()}-${process.pid}`;
    connectionString = withRunPrefix(opt.uri, runPrefix);
  }

  // s3db.js's executor pool (TasksPool) is off by default here: in 21.6.2 deleteObjects()
  // runs inside a pool task and enqueues a HEAD per key into the same pool, so once the
  // pool's slots are all held by deleteObjects tasks nothing moves until the 30 s task
  // timeout (observed: 10 deletes with executor concurrency 4 took 150 s). Instead, at most C S3
  // requests are in flight: the SDK's HTTP agent gets maxSockets = C, and s3db.js's own
  // batch fan-out (getAll, list) uses httpClientOptions.maxSockets = C. See README.
  // With --executor K: only transient errors are retried (the list a bare s3db.js
  // S3Client uses); --s3db-retries keeps the Database default ([] = retry everything,
  // 404s included, 1 s backoff doubling).
  const TRANSIENT = ['ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNREFUSED',
    'SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout', 'ThrottlingException',
    'ProvisionedThroughputExceededException'];
  let executorPool = false;
  if (opt.executor > 0) {
    executorPool = { concurrency: opt.executor };
    if (!opt.s3dbRetries) executorPool.retryableErrors = TRANSIENT;
  }

  const db = new S3db({
    connectionString,
    executorPool,
    logLevel: process.env.S3DB_LOG_LEVEL,
    exitOnSignal: true,
    clientOptions: {
      // recker@1.0.103 (s3db.js's default HTTP handler) is not installable here; the AWS
      // SDK's own NodeHttpHandler carries the requests. See README "Stubs".
      httpClientOptions: { useReckerHandler: false, maxSockets: C },
    },
  });

  const counter = new RequestCounter();
  const t0 = performance.now();
  await db.connect();
  if (isMemory) {
    if (!(db.client instanceof MemoryClient) && !db.client.storage) throw new Error('expected a MemoryClient');
    instrumentMemoryClient(db.client, counter);
    log(`connected to ${maskUri(opt.uri)} (MemoryClient)`);
  } else {
    limitSockets(db.client, C);
    const h = instrumentS3Client(db.client, counter);
    log(`connected to ${maskUri(connectionString)} in ${((performance.now() - t0) / 1000).toFixed(2)} s ` +
      `(AWS SDK ${h}, ${C} sockets; s3db.js executor ${db.client.taskExecutor ? 'concurrency ' + db.client.taskExecutor.concurrency : 'off'})`);
  }

  // scan: the resource a load run wrote (connect() has read its definition from s3db.json).
  const existing = opt.workload === 'scan' ? db.resources?.users : null;
  if (opt.workload === 'scan' && !existing) throw new Error(`no resource 'users' under ${maskUri(connectionString)}: write it with --workload load first`);
  const users = existing ?? await db.createResource({
    name: 'users',
    attributes: {
      name: 'string|required',
      email: 'email|required',
      age: 'number|required',
      active: 'boolean|required',
      tags: 'array|items:string|optional',
      address: { city: 'string|required', country: 'string|required' },
      password: 'string|required', // plain string: s3db.js's `secret` is PBKDF2 per value (issue 9)
      bio: 'string|optional',
    },
    timestamps: true,
    partitions: { byCountry: { fields: { 'address.country': 'string' } } },
    ...(opt.syncPartitions ? { asyncPartitions: false } : {}),
  });
  const partitionErrors = [];
  users.on('partitionIndexError', (e) => partitionErrors.push(e));
  users.on('partitionIndexWarning', (e) => partitionErrors.push(e));
  await drain(db, counter);

  const result = {
    impl: 's3db.js',
    version,
    uri: maskUri(opt.uri),
    n: N,
    concurrency: C,
  };
  const detail = {};
  let totalErrors = 0;

  async function step(name, { calls, records, body }) {
    const errs = [];
    const before = counter.snapshot();
    const proc = new ProcessSampler();
    const t = performance.now();
    const out = await body(errs);
    await drain(db, counter);
    const secs = (performance.now() - t) / 1000;
    const used = proc.stop();
    result[`${name}_cpu_s`] = round(used.cpuSeconds, 3);
    result[`${name}_peak_threads`] = used.peakThreads;
    result[`${name}_peak_rss_mb`] = round(used.peakRssMb, 1);
    const req = RequestCounter.diff(before, counter.snapshot());
    const nRecords = typeof records === 'function' ? records(out) : records;
    result[`${name}_ops_s`] = round(calls / secs);
    if (nRecords !== null && nRecords !== undefined) {
      result[`${name}_records_s`] = round(nRecords / secs);
      result[`${name}_records`] = nRecords;
    }
    result[`${name}_seconds`] = round(secs, 4);
    result[`${name}_requests`] = req.total;
    if (errs.length) result[`${name}_errors`] = errs.length;
    detail[name] = req.byOp;
    if (req.errors) detail[name].http_errors = req.errors;
    totalErrors += errs.length;
    log(`${name.padEnd(17)} ${secs.toFixed(3).padStart(8)} s  ${String(result[`${name}_ops_s`]).padStart(10)} ops/s` +
      `  ${String(req.total).padStart(6)} requests ${JSON.stringify(req.byOp)}` +
      (errs.length ? `  ${errs.length} ERRORS, first: ${errs[0].error?.message}` : ''));
    for (const e of errs.slice(0, 3)) log(`  error at i=${e.i}: ${e.error?.stack || e.error}`);
    return out;
  }

  const check = (what, got, want) => {
    if (got !== want) { log(`CHECK FAILED: ${what}: got ${got}, want ${want}`); totalErrors++; }
  };

  // 1. insert N (crud and cached-get; the bulk workloads write with insertMany)
  const perRecordWorkload = opt.workload === 'crud' || opt.workload === 'cached-get';
  if (perRecordWorkload) await step('insert', {
    calls: N, records: N,
    body: (errs) => runPool(N, C, (i) => users.insert(makeRecord(i)), errs),
  });

  // 2. get N
  // passes: every record read that many times over (get_cached: 5, as `s3db bench` does).
  const getStep = async (name, passes = 1) => {
    let badGets = 0;
    await step(name, {
      calls: N * passes, records: N * passes,
      body: (errs) => runPool(N * passes, C, async (j) => {
        const i = j % N;
        const r = await users.get(recordId(i));
        const want = makeRecord(i);
        if (r.age !== want.age || r.address?.country !== want.address.country || r.email !== want.email) badGets++;
      }, errs),
    });
    check(`${name}: records equal to the generated ones`, N * passes - badGets, N * passes);
  };
  if (perRecordWorkload) await getStep('get');

  if (opt.workload === 'cached-get') {
    // The CachePlugin with its redis driver (ioredis), as the performance guide sets it up,
    // installed now so that the get above was uncached. Its default policy stores a get's
    // result on the second miss of its key (minHitsBeforeStore: 2), so one untimed pass
    // first; get_fill is the pass that stores, get_cached CACHED_PASSES passes that hit.
    const CACHED_PASSES = 5;
    const { CachePlugin } = await import('s3db.js');
    const r = new URL(opt.redis);
    const cache = new CachePlugin({
      driver: 'redis',
      ttl: 600000,
      config: {
        host: r.hostname, port: Number(r.port || 6379), db: Number(r.pathname.slice(1) || 0),
        password: r.password ? decodeURIComponent(r.password) : undefined,
        redisOptions: r.username ? { username: decodeURIComponent(r.username) } : {},
        keyPrefix: `bench-peer:${runPrefix || process.pid}`,
      },
    });
    await db.usePlugin(cache, 'cache');
    // One get alone first: RedisCache connects on first use, and gets that arrive while it
    // connects wait through s3db.js's CronManager, which needs the optional node-cron.
    await users.get(recordId(0));
    await runPool(N, C, (i) => users.get(recordId(i)), []);
    await getStep('get_fill');
    const hitsBefore = cache.stats.hits;
    const missesBefore = cache.stats.misses;
    await getStep('get_cached', CACHED_PASSES);
    check('get_cached: cache hits', cache.stats.hits - hitsBefore, N * CACHED_PASSES);
    check('get_cached: cache misses', cache.stats.misses - missesBefore, 0);
    check('get_cached: S3 requests', result.get_cached_requests, 0);
    result.workload = 'cached-get';
    result.cache = 'redis';
    try { await cache.driver.clear(); } catch (e) { log(`cache clear failed: ${e.message}`); }
  } else if (opt.workload === 'crud') {
    await crudSteps();
  } else {
    await bulkSteps();
  }

  // issue 21 and 24: the bulk calls of s3db.js. `bulk` runs all of them on a fresh prefix
  // (and deletes it, untimed, at the end); `load` only writes, for a later `scan`; `scan`
  // only reads what a load run left at --prefix (its records unchanged: ages as generated).
  async function bulkSteps() {
    const writes = opt.workload !== 'scan';
    const reads = opt.workload !== 'load';
    result.workload = opt.workload;
    const ids = Array.from({ length: N }, (_, i) => recordId(i));
    const wanted = (name) => !opt.steps || opt.steps.includes(name);
    if (writes) {
      // insertMany takes every record at once and keeps C in flight (s3db.js's batch
      // helper follows maxSockets = C); records are inserted as generated.
      const inserted = await step('insertMany', {
        calls: 1, records: N,
        body: () => users.insertMany(Array.from({ length: N }, (_, i) => makeRecord(i))),
      });
      check('insertMany: records returned', inserted?.length ?? 0, N);
    }
    if (!reads) return;
    const sameAsGenerated = (rows) => rows.filter((r) => {
      const i = Number(String(r.id).slice(1));
      const want = makeRecord(i);
      return r.age === want.age && r.email === want.email && r.address?.country === want.address.country;
    }).length;
    if (writes && wanted('getMany')) {
      const many = await step('getMany', {
        calls: 1, records: (out) => out?.length ?? 0,
        body: () => users.getMany(ids),
      });
      check('getMany: records equal to the generated ones', sameAsGenerated(many), N);
    }
    if (writes && wanted('getAll')) {
      const all = await step('getAll', {
        calls: 1, records: (out) => out?.length ?? 0,
        body: () => users.getAll(),
      });
      check('getAll: records', all.length, N);
    }
    // Export: s3db.js 21.6.2 has no export call (its CLI documents `s3db export` but the
    // CLI of 21.6.2 has no such command), so a user reads getAll() and writes each record as
    // a JSON line; the lines go to a byte count here, where a user's would go to a file.
    let exportedBytes = 0;
    if (wanted('export')) {
      const exported = await step('export', {
        calls: 1, records: (out) => out ?? 0,
        body: async () => {
          const rows = await users.getAll();
          for (const r of rows) exportedBytes += Buffer.byteLength(JSON.stringify(r) + '\n');
          return rows.length;
        },
      });
      check('export: records', exported, N);
      result.export_bytes = exportedBytes;
    }
    if (wanted('count')) {
      const counted = await step('count', { calls: 1, records: (out) => out ?? 0, body: () => users.count() });
      check('count', counted, N);
    }
    if (wanted('query')) {
      const found = await step('query', {
        calls: 1, records: (out) => out?.length ?? 0,
        body: () => users.query({ active: true }, { limit: N }),
      });
      check('query {active:true}: records', found.length, N - Math.ceil(N / 3));
    }
  }
  async function crudSteps() {

    // 3. update N (age)
    await step('update', {
      calls: N, records: N,
      body: (errs) => runPool(N, C, (i) => users.update(recordId(i), { age: updatedAge(i) }), errs),
    });

    // 4. list all (limit N: s3db.js's list() stops at 1000 without a limit)
    const listed = await step('list', {
      calls: 1, records: (out) => out?.length ?? 0,
      body: () => users.list({ limit: N }),
    });
    check('list: records', listed.length, N);
    check('list: updated ages', listed.filter((r) => r.age === updatedAge(Number(r.id.slice(1)))).length, N);

    // 5. getAll
    const all = await step('getAll', {
      calls: 1, records: (out) => out?.length ?? 0,
      body: () => users.getAll(),
    });
    check('getAll: records', all.length, N);

    // 6. count
    const counted = await step('count', {
      calls: 1, records: (out) => out ?? 0,
      body: () => users.count(),
    });
    check('count', counted, N);

    // 7. listIds of each of the 8 partitions (limit N: listIds stops at 1000 without one)
    const perPartition = new Array(COUNTRIES.length).fill(0);
    await step('listIds_partition', {
      calls: COUNTRIES.length, records: () => perPartition.reduce((a, b) => a + b, 0),
      body: (errs) => runPool(COUNTRIES.length, C, async (k) => {
        const ids = await users.listIds({ partition: 'byCountry', partitionValues: { 'address.country': COUNTRIES[k] }, limit: N });
        perPartition[k] = ids.length;
      }, errs),
    });
    COUNTRIES.forEach((cc, k) => check(`listIds(byCountry=${cc})`, perPartition[k], Math.floor(N / 8) + (k < N % 8 ? 1 : 0)));

    // 8. query {active:true} (limit N: query() returns 100 by default)
    const wantActive = N - Math.ceil(N / 3);
    const found = await step('query', {
      calls: 1, records: (out) => out?.length ?? 0,
      body: () => users.query({ active: true }, { limit: N }),
    });
    check('query {active:true}: records', found.length, wantActive);

    // 9. delete N
    await step('delete', {
      calls: N, records: N,
      body: (errs) => runPool(N, C, (i) => users.delete(recordId(i)), errs),
    });
    const left = await users.count();
    check('count after delete', left, 0);
  }

  if (partitionErrors.length) {
    log(`${partitionErrors.length} partitionIndexError/Warning events, first: ${partitionErrors[0]?.message}`);
    totalErrors += partitionErrors.length;
  }

  result.requests_by_type = detail;
  result.settings = {
    executor: isMemory ? null : db.client.taskExecutor ? db.client.taskExecutor.concurrency : 'off',
    max_sockets: isS3 ? C : null,
    asyncPartitions: users.config?.asyncPartitions ?? null,
    retry: isMemory ? null : !db.client.taskExecutor ? 'AWS SDK standard retry only'
      : (opt.s3dbRetries ? 's3db.js Database default (every error)' : 'transient errors only'),
    http_handler: isS3 ? 'AWS SDK NodeHttpHandler (useReckerHandler:false)' : null,
    key_prefix: isS3 ? runPrefix : null,
    node: process.version,
  };
  result.errors = totalErrors;

  // Clean up (not timed): the run's objects under its own prefix on S3.
  if (isS3 && !opt.keep && runPrefix) {
    try {
      await db.client.deleteAll({ prefix: '' });
    } catch (e) {
      log(`cleanup failed: ${e.message}`);
    }
  }
  try { await db.disconnect(); } catch { /* ignore */ }
  log(`S3 requests counted since connect (setup, steps, checks, cleanup): ${counter.total}`);

  process.stdout.write(JSON.stringify(result) + '\n');
  return totalErrors ? 1 : 0;
}

function round(x, digits = 1) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

main().then(
  (code) => process.exit(code),
  (e) => { process.stderr.write(`bench.mjs: ${e?.stack || e}\n`); process.exit(1); },
);
