// Walks every flow of the web console of `s3db serve` in Debian's headless Chromium, driven by
// playwright-core, against a running server (run_console_test.sh starts it): seeds data through
// the JSON API, then in the page: sign in (when the server asks for a key), resource list,
// schema, paging with the cursor, partition search, record view with its ETag, edit with
// validation errors beside the fields, the 412 of a concurrent change, insert, delete with
// confirmation. Each step asserts what the page shows and what the API then holds, and saves a
// screenshot.
//
//   node console_flows.mjs --base http://127.0.0.1:PORT --shots DIR [--api-key KEY]
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []));
const base = args.base;
const shots = args.shots;
const apiKey = args['api-key'] || '';
assert.ok(base && shots, 'usage: node console_flows.mjs --base URL --shots DIR [--api-key KEY]');
mkdirSync(shots, { recursive: true });

// ---- the API, for seeding and for checking what the console did --------------------------------

async function call(method, path, body, headers = {}) {
  const sent = { ...headers };
  if (apiKey) sent.Authorization = `Bearer ${apiKey}`;
  if (body !== undefined) sent['Content-Type'] = 'application/json';
  const response = await fetch(base + path, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: text ? JSON.parse(text) : null };
}

async function seed() {
  let r = await call('POST', '/v1/resources', {
    name: 'users',
    attributes: { name: 'string|min:2', email: 'email', age: 'number|optional|min:0', region: 'string' },
    partitions: { byRegion: { fields: { region: 'string' } } },
    timestamps: true,
  });
  assert.equal(r.status, 201, r.text);
  r = await call('POST', '/v1/resources', { name: 'orders', attributes: { item: 'string', qty: 'number|min:1', paid: 'boolean|optional' } });
  assert.equal(r.status, 201, r.text);
  const users = [];
  for (let i = 1; i <= 25; ++i) {
    const n = String(i).padStart(2, '0');
    users.push({ id: `user-${n}`, name: `User ${n}`, email: `user${n}@example.com`, age: 20 + i, region: i % 2 ? 'eu' : 'us' });
  }
  // A value that is markup: the console must show it as text and never run it.
  users.push({ id: 'zz-markup', name: '<img src=x onerror="window.__s3dbXss=1"><b>bold</b>', email: 'm@example.com', region: 'eu' });
  const bulk = await fetch(`${base}/v1/users/_bulk?mode=insert`, {
    method: 'POST',
    headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {},
    body: users.map((u) => JSON.stringify(u)).join('\n'),
  });
  const lines = (await bulk.text()).trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(lines.filter((line) => line.status === 201).length, users.length, JSON.stringify(lines));
  r = await call('POST', '/v1/orders', { id: 'order-1', item: 'Tea', qty: 2, paid: true });
  assert.equal(r.status, 201, r.text);
}

// ---- the static files' headers -------------------------------------------------------------------

async function checkStaticFiles() {
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  const csp = page.headers.get('content-security-policy') || '';
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const etag = page.headers.get('etag');
  assert.ok(etag, 'the page has an ETag');
  assert.equal((await fetch(`${base}/`, { headers: { 'If-None-Match': etag } })).status, 304);
  const script = await fetch(`${base}/console/app.js`);
  assert.match(script.headers.get('content-type'), /^text\/javascript/);
  const style = await fetch(`${base}/console/style.css`);
  assert.match(style.headers.get('content-type'), /^text\/css/);
  assert.equal((await fetch(`${base}/console/nothing.js`)).status, 404);
}

// ---- the browser ---------------------------------------------------------------------------------

const profile = mkdtempSync(join(tmpdir(), 's3db-console-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.S3DB_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 860 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(15000);
const pageErrors = [];
const cspViolations = [];
page.on('pageerror', (error) => pageErrors.push(String(error)));
page.on('console', (message) => {
  if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
});
page.on('dialog', (dialog) => { pageErrors.push(`unexpected browser dialog: ${dialog.message()}`); dialog.dismiss(); });

let shotNumber = 0;
async function shot(name) {
  shotNumber += 1;
  await page.screenshot({ path: join(shots, `${String(shotNumber).padStart(2, '0')}-${name}.png`), fullPage: true });
}

let currentStep = '';
async function step(name, body) {
  currentStep = name;
  const started = Date.now();
  await body();
  console.log(`ok - ${name} (${Date.now() - started} ms)`);
}

const text = (selector) => page.locator(selector).first().textContent();
const rowIds = () => page.$$eval('#records tbody tr', (rows) => rows.map((row) => row.dataset.id));
// Waits until the table's first row is `id` (the table re-renders after each click).
const waitFirstRow = (id) => page.waitForFunction((want) => document.querySelector('#records tbody tr')?.dataset.id === want, id);
async function waitText(selector, want) {
  try {
    await page.waitForFunction(([s, w]) => (document.querySelector(s)?.textContent || '').includes(w), [selector, want]);
  } catch (error) {
    const shown = await page.evaluate((s) => document.querySelector(s)?.textContent ?? '(no such element)', selector);
    throw new Error(`${selector} never showed ${JSON.stringify(want)}; it shows ${JSON.stringify(shown)}`);
  }
}
const fieldError = (field) => page.locator(`[data-field="${field}"] .field-error`);

let failed = false;
try {
  await step('seed through the API', seed);
  await step('static files: content types, ETag and 304, CSP without inline script, 404', checkStaticFiles);

  await step('open the console', async () => {
    await page.goto(`${base}/`);
    if (apiKey) {
      await page.locator('#api-key').waitFor();
      assert.equal(await page.locator('#resource-list li').count(), 0, 'nothing is listed before signing in');
      await shot('sign-in');
      await page.fill('#api-key', 'not-the-key');
      await page.click('#sign-in');
      await waitText('#signin-error', 'refused');
      await shot('sign-in-refused');
      assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused key is not kept');
      await page.fill('#api-key', apiKey);
      await page.click('#sign-in');
    }
    await page.locator('#resource-list a', { hasText: 'users' }).waitFor();
    if (apiKey) {
      const stored = await page.evaluate(() => ({ session: Object.values(sessionStorage), local: localStorage.length }));
      assert.deepEqual(stored, { session: [apiKey], local: 0 }, 'the key is in sessionStorage only');
      await page.reload();  // still signed in within the tab
      await page.locator('#resource-list a', { hasText: 'users' }).waitFor();
    }
    assert.deepEqual(await page.$$eval('#resource-list a > span:first-child', (spans) => spans.map((s) => s.textContent)),
      ['orders', 'users']);
    await shot('resources');
  });

  await step('schema of a resource', async () => {
    await page.click('#resource-list a:has-text("users")');
    await page.locator('#schema tr[data-attribute="email"]').waitFor();
    const attributes = await page.$$eval('#schema tr[data-attribute]', (rows) =>
      rows.map((row) => [row.dataset.attribute, row.children[1].textContent, row.children[2].textContent]));
    assert.deepEqual(attributes, [
      ['age', 'number', 'number|optional|min:0'], ['email', 'email', 'email'],
      ['name', 'string', 'string|min:2'], ['region', 'string', 'string']]);
    assert.equal(await text('#schema tr[data-partition="byRegion"] td:last-child'), 'region');
    await page.locator('#records tbody tr').first().waitFor();
    await shot('schema-and-records');
  });

  await step('page through the records with the cursor', async () => {
    await page.selectOption('#page-size', '10');
    await waitText('#page-info', '10 shown');
    assert.deepEqual(await rowIds(), Array.from({ length: 10 }, (_, i) => `user-${String(i + 1).padStart(2, '0')}`));
    assert.match(await text('#page-info'), /Page 1 · 10 shown of 26/);
    assert.ok(await page.isDisabled('#prev-page'));
    await page.click('#next-page');
    await waitFirstRow('user-11');
    assert.equal((await rowIds()).length, 10);
    await page.click('#next-page');
    await waitFirstRow('user-21');
    assert.deepEqual(await rowIds(), ['user-21', 'user-22', 'user-23', 'user-24', 'user-25', 'zz-markup']);
    assert.ok(await page.isDisabled('#next-page'), 'the last page has no next');
    // The markup in a value is text: no element made from it, no script run.
    const shown = await text('#records tr[data-id="zz-markup"] td[data-column="name"]');
    assert.equal(shown, '<img src=x onerror="window.__s3dbXss=1"><b>bold</b>');
    assert.equal(await page.locator('#main img, #main b').count(), 0);
    assert.equal(await page.evaluate(() => window.__s3dbXss), undefined);
    await shot('last-page-with-markup-as-text');
    await page.click('#prev-page');
    await waitFirstRow('user-11');
  });

  await step('search by partition', async () => {
    await page.selectOption('#partition', 'byRegion');
    await page.fill('#pv-region', 'eu');
    await page.click('#search');
    await waitText('#listing-label', 'byRegion');
    await waitText('#page-info', 'of 14');
    const regions = await page.$$eval('#records td[data-column="region"]', (cells) => cells.map((c) => c.textContent));
    assert.equal(regions.length, 10);
    assert.ok(regions.every((region) => region === 'eu'), regions.join());
    assert.equal((await rowIds())[0], 'user-01');
    await shot('partition-search');
    await page.click('#next-page');
    await waitFirstRow('user-21');
    assert.deepEqual(await rowIds(), ['user-21', 'user-23', 'user-25', 'zz-markup']);
    await page.click('#prev-page');
    await waitFirstRow('user-01');
  });

  let etag = '';
  await step('view one record with its ETag', async () => {
    await page.click('#records a:has-text("user-03")');
    await waitText('#record-id', 'user-03');
    const fromApi = await call('GET', '/v1/users/user-03');
    etag = fromApi.headers.get('etag');
    assert.equal(await text('#record-etag'), etag);
    assert.equal(await text('#record-fields tr[data-field="name"] td'), 'User 03');
    assert.equal(await text('#record-fields tr[data-field="age"] td'), '23');
    await shot('record');
  });

  await step('edit: validation errors beside their fields, then a good save', async () => {
    await page.click('#edit-record');
    await page.locator('#field-name').waitFor();
    assert.equal(await page.inputValue('#field-name'), 'User 03');
    await page.fill('#field-name', 'A');
    await page.fill('#field-email', 'not-an-email');
    await page.fill('#field-age', '-5');
    await page.click('#save-record');
    await page.locator('#validation-banner').waitFor();
    for (const field of ['name', 'email', 'age']) {
      assert.ok(await fieldError(field).isVisible(), `an error beside ${field}`);
      assert.ok((await fieldError(field).textContent()).length > 0);
    }
    assert.ok(!(await fieldError('region').isVisible()), 'no error beside a good field');
    await shot('edit-validation-errors');
    assert.equal((await call('GET', '/v1/users/user-03')).json.name, 'User 03', 'nothing was written');
    await page.fill('#field-name', 'Ada Lovelace');
    await page.fill('#field-email', 'ada@example.com');
    await page.fill('#field-age', '36');
    await page.click('#save-record');
    await waitText('#record-fields tr[data-field="name"] td', 'Ada Lovelace');
    const after = await call('GET', '/v1/users/user-03');
    assert.equal(after.json.name, 'Ada Lovelace');
    assert.equal(after.json.age, 36);
    assert.notEqual(after.headers.get('etag'), etag);
    await waitText('#record-etag', after.headers.get('etag'));
    etag = after.headers.get('etag');
  });

  await step('edit: a concurrent change is a 412, shown with a reload', async () => {
    await page.click('#edit-record');
    await page.locator('#field-name').waitFor();
    assert.equal(await text('#form-etag'), etag);
    const elsewhere = await call('PATCH', '/v1/users/user-03', { name: 'Changed Elsewhere' }, { 'If-Match': etag });
    assert.equal(elsewhere.status, 200, elsewhere.text);
    await page.fill('#field-name', 'Mine');
    await page.click('#save-record');
    await waitText('#conflict-banner', 'Changed by someone else');
    await shot('edit-conflict-412');
    assert.equal((await call('GET', '/v1/users/user-03')).json.name, 'Changed Elsewhere');
    await page.click('#reload-record');
    await page.locator('#reloaded-banner').waitFor();
    assert.equal(await page.inputValue('#field-name'), 'Changed Elsewhere');
    assert.equal(await text('#form-etag'), elsewhere.headers.get('etag'));
    await page.fill('#field-name', 'Mine after reload');
    await page.click('#save-record');
    await waitText('#record-fields tr[data-field="name"] td', 'Mine after reload');
    assert.equal((await call('GET', '/v1/users/user-03')).json.name, 'Mine after reload');
  });

  await step('insert a record', async () => {
    await page.click('.breadcrumbs a:has-text("users")');
    await page.click('#new-record');
    await page.locator('#field-id').waitFor();
    await page.fill('#field-id', 'new-user');
    await page.fill('#field-name', 'Grace Hopper');
    await page.fill('#field-email', 'grace@');
    await page.fill('#field-region', 'us');
    await page.click('#save-record');
    await page.locator('#validation-banner').waitFor();
    assert.ok(await fieldError('email').isVisible());
    assert.equal((await call('GET', '/v1/users/new-user')).status, 404, 'a refused insert writes nothing');
    await shot('insert-validation-error');
    await page.fill('#field-email', 'grace@example.com');
    await page.click('#save-record');
    await waitText('#record-id', 'new-user');
    const inserted = await call('GET', '/v1/users/new-user');
    assert.equal(inserted.status, 200);
    assert.equal(inserted.json.name, 'Grace Hopper');
    assert.equal(await text('#record-etag'), inserted.headers.get('etag'));
    await shot('inserted-record');
  });

  await step('delete with a confirmation dialog', async () => {
    await page.click('#delete-record');
    await page.locator('#confirm-dialog[open]').waitFor();
    assert.match(await text('#confirm-text'), /"new-user" of "users"/);
    await shot('delete-confirmation');
    await page.click('#confirm-cancel');
    await page.locator('#confirm-dialog[open]').waitFor({ state: 'detached' });
    assert.equal((await call('GET', '/v1/users/new-user')).status, 200, 'cancel deletes nothing');
    await page.click('#delete-record');
    await page.click('#confirm-ok');
    await page.locator('#records tbody tr').first().waitFor();
    await waitText('#toast', 'Deleted "new-user"');
    assert.equal((await call('GET', '/v1/users/new-user')).status, 404);
    assert.ok(!(await rowIds()).includes('new-user'));
    await shot('after-delete');
  });

  await step('insert in another resource: numbers and booleans as typed', async () => {
    await page.click('#resource-list a:has-text("orders")');
    await page.click('#new-record');
    await page.locator('#field-qty').waitFor();
    assert.equal(await page.locator('select#field-paid').count(), 1, 'a boolean is a choice');
    await page.fill('#field-id', 'order-2');
    await page.fill('#field-item', 'Coffee');
    await page.fill('#field-qty', '3');
    await page.selectOption('#field-paid', 'false');
    await page.click('#save-record');
    await waitText('#record-id', 'order-2');
    const order = (await call('GET', '/v1/orders/order-2')).json;
    assert.equal(order.qty, 3);
    assert.equal(order.paid, false);
    // The dark colour scheme, for the record.
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('dark-scheme-record');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await step('no script errors and no CSP violation in the page', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });
} catch (error) {
  failed = true;
  console.error(`not ok - ${currentStep}\n${error && error.stack ? error.stack : error}`);
  await shot('failure').catch(() => {});
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(failed ? 'console flows: FAILED' : `console flows: all passed; screenshots in ${shots}`);
process.exit(failed ? 1 : 0);
