// The benchmark's deterministic data (README.md "Data" is the spec; keep the two in step).
// Run it to print the records, one JSON object a line, to check another implementation's
// generator against:  node bench/peer/data.mjs [N]   (default 10)

import { pathToFileURL } from 'node:url';

export const COUNTRIES = ['BR', 'US', 'DE', 'JP', 'FR', 'IN', 'CA', 'AU'];
export const CITIES = [
  ['Sao Paulo', 'Recife'], ['New York', 'Austin'], ['Berlin', 'Munich'], ['Tokyo', 'Osaka'],
  ['Paris', 'Lyon'], ['Mumbai', 'Delhi'], ['Toronto', 'Montreal'], ['Sydney', 'Perth'],
];
export const FIRST = ['Ana', 'Bruno', 'Carla', 'Diego', 'Elena', 'Felipe', 'Gabriela', 'Hugo',
  'Iris', 'Joao', 'Karen', 'Lucas', 'Marta', 'Nuno', 'Olga', 'Pedro'];
export const LAST = ['Silva', 'Santos', 'Oliveira', 'Souza', 'Lima', 'Pereira', 'Costa', 'Rocha',
  'Almeida', 'Nunes', 'Mendes', 'Barros', 'Freitas', 'Cardoso', 'Teixeira', 'Moreira'];
export const TAGS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];

// h(i): 32-bit unsigned (i * 2654435761) mod 2^32, Knuth's multiplicative hash.
export function h32(i) {
  return Number((BigInt(i) * 2654435761n) & 0xffffffffn);
}

export function recordId(i) {
  return 'u' + String(i).padStart(6, '0');
}

export function makeRecord(i) {
  const h = h32(i);
  const first = FIRST[i % 16];
  const last = LAST[Math.floor(i / 16) % 16];
  const c = i % 8;
  const tags = [];
  for (let k = 0; k < i % 4; k++) tags.push(TAGS[(i + 3 * k) % 8]);
  const rec = {
    id: recordId(i),
    name: `${first} ${last}`,
    email: `${first.toLowerCase()}.${last.toLowerCase()}.${i}@example.com`,
    age: 18 + (i % 60),
    active: i % 3 !== 0,
    tags,
    address: { city: CITIES[c][Math.floor(i / 8) % 2], country: COUNTRIES[c] },
    password: 'pw-' + h.toString(16).padStart(8, '0'),
  };
  if (i % 2 === 0) {
    rec.bio = `User ${i} likes ${TAGS[h % 8]} and ${TAGS[(h >>> 3) % 8]}; member since ${2000 + (h % 25)}.`;
  }
  return rec;
}

export function updatedAge(i) {
  return 18 + ((i + 1) % 60);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2] ?? 10);
  for (let i = 0; i < n; i++) process.stdout.write(JSON.stringify(makeRecord(i)) + '\n');
}
