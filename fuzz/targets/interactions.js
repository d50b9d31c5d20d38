// Fuzz target: parseInteractions on mutated data. The first byte of an input picks the source name
// (which selects the format: .inter, .csv, .tsv, u.data, ratings.dat, plain) and the options
// (header, skipMalformed, minValue, an explicit time column); the rest is the data's bytes.
// A successful parse must be self-consistent: every row index inside its vocabulary, values finite.
// One input in FILE_EVERY also goes through loadInteractions from a file, which must agree with
// the in-memory parse (same result, or the same error with the path in place of the name).
'use strict';
const path = require('node:path');
const rb = require(path.join(__dirname, '..', '..', 'dist'));
const { dataExecutor } = require('./file-twin');

const VARIANTS = [
  { name: 'a.inter', options: {} },
  { name: 'a.inter', options: { skipMalformed: true, minValue: 3 } },
  { name: 'a.csv', options: { header: true } },
  { name: 'a.csv', options: {} },
  { name: 'a.tsv', options: { header: true, skipMalformed: true } },
  { name: 'a.tsv', options: { time: 3, value: 2 } },
  { name: 'u.data', options: {} },
  { name: 'ratings.dat', options: {} },
  { name: 'ratings.dat', options: { skipMalformed: true } },
  { name: 'pairs.txt', options: {} },
  { name: 'pairs.txt', options: { value: null, skipMalformed: true } },
];

const SEEDS = [
  [
    0,
    'user_id:token\titem_id:token\trating:float\ttimestamp:float\n196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n',
  ],
  [1, 'user_id:token\titem_id:token\trating:float\n1\t2\t5\n1\t3\t2\nx\ty\t4.5\n'],
  [2, 'user_id,item_id,rating,timestamp\n1,10,4,2020-01-02T03:04:05Z\n2,10,5,2021-06-01\n2,11,1,1600000000\n'],
  [3, '1,10\n2,10\n3,12\n'],
  [4, 'user\titem\tvalue\n1\t2\t0.5\n3\t4\tNaN\n'],
  [5, '1\t2\t3\t100\n1\t3\t4\t200\n'],
  [6, '196\t242\t3\t881250949\n186\t302\t3\t891717742\n'],
  [7, '1::1193::5::978300760\n1::661::3::978302109\n2::1357::5::978298709\n'],
  [8, '1::1193::5::978300760\r\n1::661\r\nbad line\r\n'],
  [9, 'alice apple 1\nbob banana\n\n  carol   cherry   2.5  \n'],
  [10, 'a b\nc d\n'],
  [0, '\ufeffuser_id:token\titem_id:token\n\u00e9\t\ud83d\ude00\n'],
].map(([v, text]) => Buffer.concat([Buffer.from([v]), Buffer.from(text, 'utf8')]));

function check({ interactions, users, items }) {
  const u = interactions.users;
  const it = interactions.items;
  if (u.length !== it.length) throw new Error('post-condition: column lengths differ');
  for (let i = 0; i < u.length; i++) {
    if (!(u[i] >= 0 && u[i] < users.size && it[i] >= 0 && it[i] < items.size))
      throw new Error(`post-condition: row ${i} out of its vocabulary`);
  }
  const values = interactions.values;
  if (values) for (const v of values) if (!Number.isFinite(v)) throw new Error('post-condition: a non-finite value was loaded');
}

/** What two reads must agree on. */
function summary({ interactions, users, items, skipped, filtered }) {
  return JSON.stringify([
    users.toArray(),
    items.toArray(),
    [...interactions.users],
    [...interactions.items],
    interactions.values && [...interactions.values],
    interactions.timestamps && [...interactions.timestamps],
    skipped,
    filtered,
  ]);
}

const execute = dataExecutor({
  variants: VARIANTS,
  parse: (data, v) => rb.parseInteractions(data, { ...v.options, name: v.name }),
  load: (file, v) => rb.loadInteractions(file, v.options),
  summary,
  check,
});

module.exports = async function interactionsTarget() {
  return {
    name: 'interactions',
    seeds: SEEDS,
    dictionary: [
      '\t',
      ',',
      '::',
      ' ',
      '\n',
      '\r\n',
      ':token',
      ':float',
      ':token_seq',
      'user_id',
      'item_id',
      'rating',
      'timestamp',
      'NaN',
      'Infinity',
      '-1e309',
      '1e309',
      '2020-13-45',
      '2020-02-30T25:61:00Z',
      '\uFEFF',
      '\u0000',
      '\u00e9',
      '\ud83d\ude00',
      '""',
      '0x10',
    ],
    variant: (buf) => (buf.length ? String(buf[0] % VARIANTS.length) : '-'),
    execute,
    expected: (err) => err && err.code === 'ERR_MALFORMED_DATA',
  };
};
