// The s3db web console (docs/SERVE.md, "Web console"): a small single-page app over the JSON
// API of `s3db serve`. Every value shown is put in the page as a text node, never parsed as
// markup, and the server's Content-Security-Policy allows no inline script, so a record
// holding markup stays text. The API key, when the server asks for one, is kept in
// sessionStorage only (gone when the tab closes).
'use strict';

const KEY_STORAGE = 's3db.console.apiKey';
const PAGE_SIZES = [10, 20, 50, 100];

// ---------------------------------------------------------------------------------------------
// DOM helpers: nodes built from properties and children; strings become text nodes.

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'value') node.value = value;
    else if (name === 'checked' || name === 'disabled' || name === 'selected' || name === 'hidden') node[name] = true;
    else if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (selector) => document.querySelector(selector);
const go = (hash) => { location.hash = hash; };

function show(...nodes) {
  const main = $('#main');
  main.replaceChildren(...nodes.flat());
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

let toastTimer = 0;
function toast(text) {
  const node = $('#toast');
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 4000);
}

// A confirmation in a modal <dialog>; resolves true when confirmed.
function confirmDialog(title, text, okLabel) {
  const dialog = $('#confirm-dialog');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text;
  $('#confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    const finish = (answer) => {
      $('#confirm-ok').removeEventListener('click', ok);
      $('#confirm-cancel').removeEventListener('click', cancel);
      dialog.removeEventListener('cancel', cancel);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const ok = () => finish(true);
    const cancel = (event) => { if (event) event.preventDefault(); finish(false); };
    $('#confirm-ok').addEventListener('click', ok);
    $('#confirm-cancel').addEventListener('click', cancel);
    dialog.addEventListener('cancel', cancel);  // Escape
    dialog.showModal();
    $('#confirm-cancel').focus();
  });
}

// ---------------------------------------------------------------------------------------------
// The API: JSON in and out; a problem document becomes an ApiError.

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

function apiKey() { return sessionStorage.getItem(KEY_STORAGE) || ''; }

async function api(method, path, { body, headers } = {}) {
  const sent = Object.assign({ Accept: 'application/json' }, headers || {});
  if (apiKey()) sent.Authorization = `Bearer ${apiKey()}`;
  if (body !== undefined) sent['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (error) { data = { detail: text }; }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return { status: response.status, etag: response.headers.get('ETag') || '', data };
}

const enc = encodeURIComponent;
const resourcePath = (name) => `/v1/${enc(name)}`;
const recordPath = (name, id) => `/v1/${enc(name)}/${enc(id)}`;
const hrefResource = (name) => `#/r/${enc(name)}`;
const hrefRecord = (name, id) => `#/r/${enc(name)}/id/${enc(id)}`;

// ---------------------------------------------------------------------------------------------
// Schema helpers: an attribute is a rule string ("string|min:2|optional"), a nested object of
// attributes, or an object with a "type".

function attributeType(spec) {
  if (typeof spec === 'string') return spec.split('|')[0].trim() || 'any';
  if (spec && typeof spec === 'object') {
    if (typeof spec.type === 'string') return spec.type.split('|')[0].trim();
    return 'object';
  }
  return 'any';
}

function ruleText(spec) {
  if (typeof spec === 'string') return spec;
  return JSON.stringify(spec);
}

// The fields of each partition: {"byRegion": {"fields": {"region": "string"}}}.
function partitionFields(partition) {
  const fields = partition && typeof partition === 'object' && partition.fields ? partition.fields : partition;
  return fields && typeof fields === 'object' ? Object.keys(fields) : [];
}

function showValue(value) {
  if (value === undefined) return el('span', { class: 'null' }, '—');
  if (value === null) return el('span', { class: 'null' }, 'null');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// State shared between views.

const state = {
  resources: [],        // [{name, version}]
  schemas: new Map(),   // name -> ExportSchema
  listing: null,        // the current resource's table: {resource, pageSize, partition, values, cursors, next}
};

async function schemaOf(name, { fresh = false } = {}) {
  if (fresh || !state.schemas.has(name)) {
    const { data } = await api('GET', `/v1/resources/${enc(name)}`);
    state.schemas.set(name, data);
  }
  return state.schemas.get(name);
}

function errorBanner(error) {
  const problem = error instanceof ApiError ? error.problem : {};
  const title = error instanceof ApiError ? `${error.status} ${problem.title || ''}`.trim() : 'Error';
  return el('div', { class: 'banner error', role: 'alert' },
    el('strong', {}, title), ': ', error.message || String(error));
}

// ---------------------------------------------------------------------------------------------
// Sign in: shown when the API answers 401. The key goes to sessionStorage only.

function showSignIn(message) {
  const input = el('input', { id: 'api-key', type: 'password', autocomplete: 'off', placeholder: 'API key or token' });
  const problem = el('p', { id: 'signin-error', class: 'field-error', hidden: !message }, message || '');
  const submit = async () => {
    const key = input.value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    try {
      await loadResources();
      route();
    } catch (error) {
      sessionStorage.removeItem(KEY_STORAGE);
      problem.hidden = false;
      problem.textContent = error instanceof ApiError && error.status === 401
        ? `The server refused this key (${error.message}).`
        : error.message;
    }
  };
  input.addEventListener('keydown', (event) => { if (event.key === 'Enter') submit(); });
  $('#resource-list').replaceChildren();
  $('#sign-out').hidden = true;
  $('#server-status').textContent = 'authentication required';
  show(el('div', { class: 'card signin' },
    el('h3', {}, 'Sign in'),
    el('p', {}, 'This server asks for credentials. Enter an API key or a JWT; it is kept in this tab only ' +
      '(sessionStorage) and sent as an Authorization header.'),
    el('div', { class: 'field' }, el('label', { for: 'api-key' }, 'API key'), input, problem),
    el('button', { id: 'sign-in', class: 'primary', type: 'button', onclick: submit }, 'Sign in')));
  input.focus();
}

function signOut() {
  sessionStorage.removeItem(KEY_STORAGE);
  state.resources = [];
  state.schemas.clear();
  showSignIn('Signed out.');
}

// ---------------------------------------------------------------------------------------------
// The resource list (sidebar and home).

async function loadResources() {
  const { data } = await api('GET', '/v1/resources');
  state.resources = (data.resources || []).slice().sort((a, b) => a.name.localeCompare(b.name));
  $('#server-status').textContent = apiKey() ? 'signed in' : '';
  $('#sign-out').hidden = !apiKey();
  renderSidebar();
}

function renderSidebar(current) {
  const items = state.resources.map((resource) => el('li', {},
    el('a', { href: hrefResource(resource.name), class: resource.name === current ? 'current' : null },
      el('span', {}, resource.name), el('span', { class: 'version' }, `v${resource.version}`))));
  if (!items.length) items.push(el('li', { class: 'muted' }, 'none yet'));
  $('#resource-list').replaceChildren(...items);
}

function showHome() {
  renderSidebar();
  show(
    el('div', { class: 'page-head' }, el('div', {}, el('h1', {}, 'Resources'),
      el('p', { class: 'muted' }, `${state.resources.length} resource(s) in this database`))),
    el('div', { class: 'grid' }, state.resources.map((resource) =>
      el('a', { class: 'card resource-card', href: hrefResource(resource.name) },
        el('h3', {}, resource.name), el('span', { class: 'pill' }, `version ${resource.version}`)))));
}

// ---------------------------------------------------------------------------------------------
// One resource: its schema, a page of records, partition search.

function schemaCard(schema) {
  const attributes = schema.attributes || {};
  const rows = Object.keys(attributes).map((name) => el('tr', { 'data-attribute': name },
    el('td', {}, el('code', {}, name)),
    el('td', {}, el('span', { class: 'pill' }, attributeType(attributes[name]))),
    el('td', { class: 'value' }, ruleText(attributes[name]))));
  const partitions = schema.partitions || {};
  const partitionRows = Object.keys(partitions).map((name) => el('tr', { 'data-partition': name },
    el('td', {}, el('code', {}, name)), el('td', { class: 'value' }, partitionFields(partitions[name]).join(', '))));
  return el('section', { class: 'card', id: 'schema' },
    el('div', { class: 'card-head' }, el('h3', {}, 'Schema'),
      el('span', { class: 'muted' }, `version ${schema.version || '?'} · behavior ${schema.behavior || '?'}` +
        (schema.timestamps ? ' · timestamps' : ''))),
    el('table', { class: 'schema' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Attribute'), el('th', {}, 'Type'), el('th', {}, 'Rules'))),
      el('tbody', {}, rows)),
    partitionRows.length ? el('table', { class: 'partitions' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Partition'), el('th', {}, 'Fields'))),
      el('tbody', {}, partitionRows)) : null);
}

async function showResource(name) {
  renderSidebar(name);
  const schema = await schemaOf(name, { fresh: true });
  if (!state.listing || state.listing.resource !== name) {
    state.listing = { resource: name, pageSize: 20, partition: '', values: {}, cursors: [''], next: null };
  }
  const tableSlot = el('section', { class: 'card', id: 'records' });
  show(
    el('div', { class: 'breadcrumbs' }, el('a', { href: '#/' }, 'Resources'), ' / ', name),
    el('div', { class: 'page-head' },
      el('div', {}, el('h1', {}, name)),
      el('div', { class: 'actions' },
        el('button', { id: 'new-record', class: 'primary', type: 'button', onclick: () => go(`${hrefResource(name)}/new`) },
          'New record'))),
    schemaCard(schema),
    tableSlot);
  await renderRecords(schema, tableSlot);
}

function searchBar(schema, slot) {
  const listing = state.listing;
  const partitions = schema.partitions || {};
  const names = Object.keys(partitions);
  const select = el('select', { id: 'partition' },
    el('option', { value: '' }, 'All records'),
    names.map((name) => el('option', { value: name, selected: name === listing.partition }, name)));
  const inputs = el('span', { class: 'toolbar', id: 'partition-fields' });
  const renderInputs = () => {
    inputs.replaceChildren(...partitionFields(partitions[select.value]).map((field) =>
      el('div', { class: 'inline-field' },
        el('label', { for: `pv-${field}` }, field),
        el('input', { id: `pv-${field}`, 'data-partition-field': field, value: listing.values[field] || '' }))));
  };
  select.addEventListener('change', renderInputs);
  renderInputs();
  const search = () => {
    listing.partition = select.value;
    listing.values = {};
    for (const input of inputs.querySelectorAll('input')) {
      if (input.value !== '') listing.values[input.dataset.partitionField] = input.value;
    }
    listing.cursors = [''];
    renderRecords(schema, slot).catch(fail);
  };
  inputs.addEventListener('keydown', (event) => { if (event.key === 'Enter') search(); });
  const pageSize = el('select', { id: 'page-size', onchange: (event) => {
    listing.pageSize = Number(event.target.value);
    listing.cursors = [''];
    renderRecords(schema, slot).catch(fail);
  } }, PAGE_SIZES.map((size) => el('option', { value: String(size), selected: size === listing.pageSize }, `${size} a page`)));
  return el('div', { class: 'toolbar' },
    names.length ? el('div', { class: 'inline-field' }, el('label', { for: 'partition' }, 'Partition'), select) : null,
    inputs,
    names.length ? el('button', { id: 'search', type: 'button', onclick: search }, 'Search') : null,
    names.length ? el('button', { id: 'clear-search', type: 'button', class: 'quiet', onclick: () => {
      listing.partition = '';
      listing.values = {};
      listing.cursors = [''];
      renderRecords(schema, slot).catch(fail);
    } }, 'Clear') : null,
    el('div', { class: 'inline-field', style: null }, el('label', { for: 'page-size' }, 'Show'), pageSize));
}

async function renderRecords(schema, slot) {
  const listing = state.listing;
  const name = listing.resource;
  const params = new URLSearchParams({ limit: String(listing.pageSize) });
  const cursor = listing.cursors[listing.cursors.length - 1];
  if (cursor) params.set('cursor', cursor);
  const countParams = new URLSearchParams();
  if (listing.partition) {
    params.set('partition', listing.partition);
    params.set('values', JSON.stringify(listing.values));
    countParams.set('partition', listing.partition);
    countParams.set('values', JSON.stringify(listing.values));
  }
  const head = el('div', { class: 'card-head' }, el('h3', {}, 'Records'),
    el('span', { class: 'muted', id: 'listing-label' }, listing.partition
      ? `partition ${listing.partition} ${JSON.stringify(listing.values)}` : 'all records'));
  let page;
  let count = null;
  try {
    [page, count] = await Promise.all([
      api('GET', `${resourcePath(name)}?${params}`),
      api('GET', `${resourcePath(name)}/count?${countParams}`).then((r) => r.data.count, () => null),
    ]);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    slot.replaceChildren(head, searchBar(schema, slot), errorBanner(error));
    return;
  }
  const items = page.data.items || [];
  listing.next = page.data.next;
  const columns = ['id', ...Object.keys(schema.attributes || {}).slice(0, 6)];
  const table = el('table', { class: 'records' },
    el('thead', {}, el('tr', {}, columns.map((column) => el('th', {}, column)))),
    el('tbody', {}, items.map((record) => el('tr', { 'data-id': record.id },
      columns.map((column) => column === 'id'
        ? el('td', {}, el('a', { href: hrefRecord(name, record.id), class: 'record-link' }, record.id))
        : el('td', { 'data-column': column, title: typeof record[column] === 'string' ? record[column] : null },
          showValue(record[column])))))));
  const pageNumber = listing.cursors.length;
  const pager = el('div', { class: 'pager' },
    el('span', { class: 'muted', id: 'page-info' },
      `Page ${pageNumber} · ${items.length} shown` + (count === null ? '' : ` of ${count}`)),
    el('button', { id: 'prev-page', type: 'button', disabled: pageNumber === 1, onclick: () => {
      listing.cursors.pop();
      renderRecords(schema, slot).catch(fail);
    } }, '← Previous'),
    el('button', { id: 'next-page', type: 'button', disabled: !listing.next, onclick: () => {
      listing.cursors.push(listing.next);
      renderRecords(schema, slot).catch(fail);
    } }, 'Next →'));
  slot.replaceChildren(head, searchBar(schema, slot),
    items.length ? table : el('p', { class: 'muted', id: 'no-records' }, 'No records here.'), pager);
}

// ---------------------------------------------------------------------------------------------
// One record: its fields and ETag; edit (PATCH with If-Match), insert, delete.

async function showRecord(name, id) {
  renderSidebar(name);
  const { data, etag } = await api('GET', `${recordPath(name, id)}?meta=true`);
  const fields = Object.keys(data).filter((key) => !key.startsWith('_'));
  const meta = Object.keys(data).filter((key) => key.startsWith('_') && key !== '_etag');
  const remove = async () => {
    const sure = await confirmDialog('Delete this record?',
      `Record "${id}" of "${name}" will be deleted. This cannot be undone.`, 'Delete');
    if (!sure) return;
    try {
      await api('DELETE', recordPath(name, id), { headers: { 'If-Match': etag } });
      toast(`Deleted "${id}".`);
      location.hash = hrefResource(name);
    } catch (error) {
      $('#record-status').replaceChildren(errorBanner(error));
    }
  };
  show(
    el('div', { class: 'breadcrumbs' }, el('a', { href: '#/' }, 'Resources'), ' / ',
      el('a', { href: hrefResource(name) }, name), ' / ', id),
    el('div', { class: 'page-head' },
      el('div', {}, el('h1', { id: 'record-id' }, id),
        el('div', {}, el('span', { class: 'muted' }, 'ETag '), el('code', { class: 'etag', id: 'record-etag' }, etag))),
      el('div', { class: 'actions' },
        el('button', { id: 'edit-record', type: 'button', class: 'primary', onclick: () => go(`${hrefRecord(name, id)}/edit`) },
          'Edit'),
        el('button', { id: 'delete-record', type: 'button', class: 'danger', onclick: remove }, 'Delete'))),
    el('div', { id: 'record-status' }),
    el('section', { class: 'card' }, el('h3', {}, 'Fields'),
      el('table', { class: 'kv', id: 'record-fields' }, el('tbody', {}, fields.map((key) => el('tr', { 'data-field': key },
        el('th', {}, key), el('td', { class: 'value' }, showValue(data[key]))))))),
    meta.length ? el('section', { class: 'card' }, el('h3', {}, 'Metadata'),
      el('table', { class: 'kv' }, el('tbody', {}, meta.map((key) => el('tr', {},
        el('th', {}, key), el('td', { class: 'value' }, showValue(data[key]))))))) : null);
}

// The form's input for one attribute, holding `value`.
function fieldInput(name, spec, value) {
  const type = attributeType(spec);
  const id = `field-${name}`;
  if (type === 'boolean') {
    return el('select', { id, 'data-kind': 'boolean' },
      el('option', { value: '' }, '(not set)'),
      el('option', { value: 'true', selected: value === true }, 'true'),
      el('option', { value: 'false', selected: value === false }, 'false'));
  }
  if (type === 'object' || type === 'array' || type === 'json' || type === 'any' ||
      (value !== null && typeof value === 'object')) {
    return el('textarea', { id, 'data-kind': 'json', spellcheck: 'false',
      value: value === undefined ? '' : JSON.stringify(value, null, 2) });
  }
  const numeric = type === 'number' || type === 'integer';
  return el('input', { id, 'data-kind': numeric ? 'number' : 'text', inputmode: numeric ? 'decimal' : null,
    autocomplete: 'off', value: value === undefined || value === null ? '' : String(value) });
}

// What an input holds, as JSON: undefined when empty. A number that does not parse is sent
// as typed, so the server's validation names it next to its field.
function inputValue(input) {
  const text = input.value;
  if (text === '') return undefined;
  switch (input.dataset.kind) {
    case 'boolean': return text === 'true';
    case 'number': return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'json':
      try { return JSON.parse(text); } catch (error) { return text; }
    default: return text;
  }
}

// The edit and insert form. `record` is null for an insert.
async function showForm(name, id) {
  renderSidebar(name);
  const schema = await schemaOf(name, { fresh: true });
  const attributes = schema.attributes || {};
  let record = null;
  let etag = '';
  if (id !== null) {
    const answer = await api('GET', recordPath(name, id));
    record = answer.data;
    etag = answer.etag;
  }
  const inserting = record === null;
  const status = el('div', { id: 'form-status' });
  const fieldBoxes = new Map();
  const makeField = (fieldName, spec, value) => {
    const box = el('div', { class: 'field', 'data-field': fieldName },
      el('label', { for: `field-${fieldName}` }, fieldName, el('span', { class: 'rule' }, ruleText(spec))),
      fieldInput(fieldName, spec, value),
      el('p', { class: 'field-error', hidden: true }));
    fieldBoxes.set(fieldName, box);
    return box;
  };
  const idField = inserting ? el('div', { class: 'field', 'data-field': 'id' },
    el('label', { for: 'field-id' }, 'id', el('span', { class: 'rule' }, 'optional: the server makes one when empty')),
    el('input', { id: 'field-id', autocomplete: 'off' }),
    el('p', { class: 'field-error', hidden: true })) : null;
  if (idField) fieldBoxes.set('id', idField);
  const fields = Object.keys(attributes).map((fieldName) =>
    makeField(fieldName, attributes[fieldName], record ? record[fieldName] : undefined));
  const etagLabel = el('code', { class: 'etag', id: 'form-etag' }, etag);

  const clearErrors = () => {
    status.replaceChildren();
    for (const box of fieldBoxes.values()) {
      box.classList.remove('invalid');
      const message = box.querySelector('.field-error');
      message.hidden = true;
      message.textContent = '';
    }
  };
  // 422/400 with "errors": each next to its field (by the first segment of its path).
  const showFieldErrors = (error) => {
    const unplaced = [];
    for (const item of error.problem.errors || []) {
      const path = String(item.path || '');
      const box = fieldBoxes.get(path.split(/[.[]/)[0]);
      const text = path && box && path !== box.dataset.field ? `${path}: ${item.message}` : item.message;
      if (!box) { unplaced.push(`${path}: ${item.message}`); continue; }
      box.classList.add('invalid');
      const message = box.querySelector('.field-error');
      message.textContent = message.textContent ? `${message.textContent}; ${text}` : text;
      message.hidden = false;
    }
    status.replaceChildren(el('div', { class: 'banner error', role: 'alert', id: 'validation-banner' },
      el('strong', {}, 'Not saved'), ': ',
      `${(error.problem.errors || []).length} field(s) failed validation.`,
      unplaced.length ? el('ul', {}, unplaced.map((text) => el('li', {}, text))) : null));
  };
  const reload = async () => {
    const answer = await api('GET', recordPath(name, id));
    record = answer.data;
    etag = answer.etag;
    etagLabel.textContent = etag;
    for (const fieldName of Object.keys(attributes)) {
      const box = fieldBoxes.get(fieldName);
      box.replaceChild(fieldInput(fieldName, attributes[fieldName], record[fieldName]), box.querySelector('input, select, textarea'));
    }
    clearErrors();
    status.replaceChildren(el('div', { class: 'banner ok', id: 'reloaded-banner' },
      'Reloaded the current version. Make your change again and save.'));
  };
  const save = async () => {
    clearErrors();
    const body = {};
    for (const fieldName of Object.keys(attributes)) {
      const input = fieldBoxes.get(fieldName).querySelector('input, select, textarea');
      const value = inputValue(input);
      if (inserting) {
        if (value !== undefined) body[fieldName] = value;
      } else if (JSON.stringify(value) !== JSON.stringify(record[fieldName])) {
        body[fieldName] = value === undefined ? null : value;  // an emptied field is removed
      }
    }
    if (inserting && idField.querySelector('input').value.trim() !== '') body.id = idField.querySelector('input').value.trim();
    saveButton.disabled = true;
    try {
      const answer = inserting
        ? await api('POST', resourcePath(name), { body })
        : await api('PATCH', recordPath(name, id), { body, headers: { 'If-Match': etag } });
      toast(inserting ? `Inserted "${answer.data.id}".` : `Saved "${id}".`);
      location.hash = hrefRecord(name, answer.data.id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) throw error;
      if (error instanceof ApiError && error.problem.errors) {
        showFieldErrors(error);
      } else if (error instanceof ApiError && error.status === 412) {
        status.replaceChildren(el('div', { class: 'banner conflict', role: 'alert', id: 'conflict-banner' },
          el('span', {}, el('strong', {}, 'Changed by someone else'),
            ': this record changed since you opened it, so your edit was not saved. Reload to see the new version.'),
          el('button', { id: 'reload-record', type: 'button', onclick: () => reload().catch(fail) }, 'Reload')));
      } else {
        status.replaceChildren(errorBanner(error));
      }
    } finally {
      saveButton.disabled = false;
    }
  };
  const saveButton = el('button', { id: 'save-record', class: 'primary', type: 'button',
    onclick: () => save().catch(fail) }, inserting ? 'Insert' : 'Save');
  show(
    el('div', { class: 'breadcrumbs' }, el('a', { href: '#/' }, 'Resources'), ' / ',
      el('a', { href: hrefResource(name) }, name), ' / ',
      inserting ? 'new record' : el('a', { href: hrefRecord(name, id) }, id)),
    el('div', { class: 'page-head' },
      el('div', {}, el('h1', {}, inserting ? `New record in ${name}` : `Edit ${id}`),
        inserting ? null : el('div', {}, el('span', { class: 'muted' }, 'Editing version with ETag '), etagLabel))),
    status,
    el('section', { class: 'card', id: 'record-form' }, idField, fields,
      el('div', { class: 'toolbar' }, saveButton,
        el('button', { type: 'button', class: 'quiet', id: 'cancel-edit',
          onclick: () => go(inserting ? hrefResource(name) : hrefRecord(name, id)) }, 'Cancel'))));
}

// ---------------------------------------------------------------------------------------------
// Routing by the location's hash: #/, #/r/NAME, #/r/NAME/new, #/r/NAME/id/ID, #/r/NAME/id/ID/edit.

function fail(error) {
  if (error instanceof ApiError && error.status === 401) {
    showSignIn(apiKey() ? 'The server refused the key; enter another.' : '');
    sessionStorage.removeItem(KEY_STORAGE);
    return;
  }
  show(errorBanner(error), el('p', {}, el('a', { href: '#/' }, 'Back to the resources')));
}

async function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter((part) => part !== '').map(decodeURIComponent);
  if (!state.resources.length) await loadResources();
  if (parts[0] === 'r' && parts.length >= 2) {
    const name = parts[1];
    if (parts.length === 2) return showResource(name);
    if (parts[2] === 'new') return showForm(name, null);
    if (parts[2] === 'id' && parts.length === 4) return showRecord(name, parts[3]);
    if (parts[2] === 'id' && parts[4] === 'edit') return showForm(name, parts[3]);
  }
  return showHome();
}

window.addEventListener('hashchange', () => route().catch(fail));
document.addEventListener('DOMContentLoaded', () => {
  $('#sign-out').addEventListener('click', signOut);
  route().catch(fail);
});
