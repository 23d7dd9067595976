// Writes the migration fixture with the real s3db.js (bench/peer/node_modules, 21.6.2):
// resources covering every type the migration translates, every behavior (records over the
// 2 KB metadata limit included), partitions, secrets, unicode, empty and null values,
// timestamps, an update (s3db.js then writes a body with leftover keys), a field type the
// migration cannot translate, and one larger resource for the parallel-range and resume tests.
//
//   node write_s3dbjs_fixture.mjs --peer DIR --uri <s3db.js connection string> --expected FILE
//        [--dump FILE] [--bulk N] [--passphrase P]
//
// --peer: the folder whose node_modules holds s3db.js (bench/peer, after bench/peer/install.sh).
//
// --expected: one JSON line per record, {"resource", "id", "data"}, where data is what
//   s3db.js's own get(id) returns without its internal "_..." (on RGW "-...") keys and "id": what the
//   migrated record must equal.
// --dump: (memory:// only) every object s3db.js stored, one JSON line each:
//   {"key", "metadata", "body_base64", "content_type"}, metadata as stored (encoded).
// Writes nothing to stdout but a final JSON summary line.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = { bulk: 300, passphrase: 'fixture-passphrase' };
for (let i = 0; i < args.length; i += 2) {
  const name = args[i].replace(/^--/, '');
  opt[name] = args[i + 1];
}
if (!opt.peer || !opt.uri || !opt.expected) {
  console.error('usage: write_s3dbjs_fixture.mjs --peer DIR --uri URI --expected FILE [--dump FILE] [--bulk N]');
  process.exit(2);
}
process.env.S3DB_LOG_LEVEL = 'silent';
console.log = console.info = console.debug = (...a) => console.error(...a);

const { S3db } = await import(pathToFileURL(join(opt.peer, 'node_modules/s3db.js/dist/index.js')).href);
const db = new S3db({
  connectionString: opt.uri,
  security: { passphrase: opt.passphrase },
  logLevel: 'silent',
  exitOnSignal: false,
  executorPool: false,
  clientOptions: { httpClientOptions: { useReckerHandler: false, maxSockets: 16 } },
});
await db.connect();

const expected = [];
async function record(resource, id) {
  const got = await resource.get(id);
  const data = {};
  for (const [k, v] of Object.entries(got)) {
    // On Ceph RGW s3db.js's "_v"-style metadata reads back as "-v" and its get() returns
    // them as data: bookkeeping either way, which the migration leaves out.
    if (k === 'id' || k.startsWith('_') || k.startsWith('-')) continue;
    data[k] = v;
  }
  expected.push({ resource: resource.name, id, data });
}

// Every type the migration translates, partitions, secrets, unicode, empty and null values.
const people = await db.createResource({
  name: 'people',
  attributes: {
    name: 'string|required',
    bio: 'string|optional',
    age: 'number|optional',
    visits: 'number|integer:true|optional',
    active: 'boolean|optional',
    birthday: 'dateonly|optional',
    seenAt: 'datetime|optional',
    wakeAt: 'timeonly|optional',
    tags: 'array|items:string|optional',
    scores: 'array|items:number|optional',
    counts: 'array|items:number|integer:true|optional',
    region: 'string|optional',
    email: 'email|optional',
    site: 'url|optional',
    uid: 'uuid|optional',
    profile: { city: 'string|optional', zip: 'string|optional' },
    extra: 'json|optional',
    apiKey: 'secret|optional',
    status: 'string|optional',
  },
  partitions: { byRegion: { fields: { region: 'string' } } },
  asyncPartitions: false,
});
const peopleRows = [
  { id: 'user-1', name: 'Alice', bio: 'Olá, café | "quoted" \\ back', age: 31.5, visits: 1234567, active: true,
    birthday: '1990-05-17', seenAt: '2024-03-01T12:34:56.789Z', wakeAt: '07:30:15.250', tags: ['a|b', 'c\\d', 'plain'],
    scores: [1, 2.5, -3], counts: [0, 7, 42], region: 'eu', email: 'alice@example.com', site: 'https://example.com/alice',
    uid: '123e4567-e89b-12d3-a456-426614174000', profile: { city: 'Lisboa', zip: '1000-001' },
    extra: { k: [1, 2], n: null, s: 'ü' }, apiKey: 'sk-live-123', status: 'completed' },
  { id: 'user-2', name: 'Bob', age: 0, visits: 0, active: false, tags: [], region: 'us' },
  { id: 'user-3', name: '日本語テキスト', bio: '😀 emoji and 中文', age: -12.25, visits: -5, region: 'jp',
    tags: ['日本', 'ü'], profile: { city: 'Tōkyō' }, apiKey: 'ключ-секрет', status: 'failed' },
  { id: 'user-4', name: 'Empty', bio: '', tags: [''], scores: [], region: 'eu', extra: {}, apiKey: '' },
  { id: 'user-5', name: 'Nulls', bio: null, age: null, region: null, extra: null },
  { id: 'user-6', name: 'tab\there', bio: 'u:looks-like-a-prefix', region: 'us', site: 'http://localhost:8080/x',
    status: 'd:c', extra: [1, 'two', { three: 3 }] },
  { id: 'user-7', name: 'Ünïcödé Lätïn', bio: 'ÀÉÎÕÜ àéîõü ß', age: 1e21, visits: 9007199254740991, region: 'br' },
  { id: 'id_with-dash.and.dots', name: 'Odd id', region: 'eu' },
];
for (const row of peopleRows) await people.insert(row);
// An update: s3db.js then writes the whole record to the body too, with leftover keys.
await people.update('user-1', { region: 'br' });
for (const row of peopleRows) await record(people, row.id);

// Every behavior, each with a small record and one over the 2 KB metadata limit.
const big = 'L'.repeat(2500);
const bigUnicode = 'ção '.repeat(700);
for (const behavior of ['user-managed', 'body-overflow', 'body-only', 'truncate-data', 'enforce-limits']) {
  const name = 'notes_' + behavior.replace('-', '_');
  // Attribute order matters for truncate-data in 21.6.2: the big field must be the
  // numerically last metadata key, else its insert never returns (docs/MIGRATE.md).
  const notes = await db.createResource({
    name,
    behavior,
    attributes: { title: 'string', n: 'number|optional', body: 'string|optional' },
    asyncPartitions: false,
  });
  await notes.insert({ id: 'small', title: 'short note', n: 7 });
  await record(notes, 'small');
  if (behavior !== 'enforce-limits') {
    await notes.insert({ id: 'big', title: 'long note', n: 8, body: big });
    await record(notes, 'big');
    if (behavior !== 'truncate-data') {
      await notes.insert({ id: 'big-unicode', title: 'ç long', n: 9, body: bigUnicode });
      await record(notes, 'big-unicode');
    }
  }
}

// Timestamps (createdAt/updatedAt kept as they were) and a partition on them.
const events = await db.createResource({
  name: 'events',
  attributes: { kind: 'string', payload: 'json|optional' },
  timestamps: true,
  partitions: { byKind: { fields: { kind: 'string' } } },
  asyncPartitions: false,
});
for (let i = 0; i < 5; i++) await events.insert({ id: `ev-${i}`, kind: i % 2 ? 'click' : 'view', payload: { i } });
await new Promise((r) => setTimeout(r, 20));
await events.update('ev-1', { kind: 'view' });
for (let i = 0; i < 5; i++) await record(events, `ev-${i}`);

// A type the migration does not translate (the password hash is one-way).
const devices = await db.createResource({
  name: 'devices',
  attributes: { label: 'string', addr: 'ip4|optional' },
  asyncPartitions: false,
});
await devices.insert({ id: 'd1', label: 'router', addr: '192.168.1.10' });
await record(devices, 'd1');

// Many small records for the parallel key ranges and resume.
const bulk = await db.createResource({
  name: 'bulk',
  attributes: { n: 'number|integer:true', label: 'string', group: 'string' },
  partitions: { byGroup: { fields: { group: 'string' } } },
  asyncPartitions: false,
});
const alphabet = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
const bulkRows = [];
for (let i = 0; i < Number(opt.bulk); i++) {
  const id = alphabet[(i * 7) % alphabet.length] + alphabet[(i * 13) % alphabet.length] + String(i).padStart(4, '0');
  bulkRows.push({ id, n: i, label: `item ${i}`, group: `g${i % 4}` });
}
for (let i = 0; i < bulkRows.length; i += 25) {
  await Promise.all(bulkRows.slice(i, i + 25).map((row) => bulk.insert(row)));
}
for (const row of bulkRows) expected.push({ resource: 'bulk', id: row.id, data: { n: row.n, label: row.label, group: row.group } });

writeFileSync(opt.expected, expected.map((e) => JSON.stringify(e)).join('\n') + '\n');
let dumped = 0;
if (opt.dump) {
  const storage = db.client.storage;
  if (!storage || !storage.objects) throw new Error('--dump needs a memory:// connection string');
  const lines = [];
  for (const [key, obj] of storage.objects) {
    const body = obj.body ? Buffer.from(obj.body) : Buffer.alloc(0);
    lines.push(JSON.stringify({ key, metadata: obj.metadata || {}, body_base64: body.toString('base64'),
      content_type: obj.contentType || '' }));
  }
  writeFileSync(opt.dump, lines.join('\n') + '\n');
  dumped = lines.length;
}
await db.disconnect();
process.stdout.write(JSON.stringify({ records: expected.length, dumped }) + '\n');
process.exit(0);
