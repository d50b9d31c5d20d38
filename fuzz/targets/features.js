// Fuzz target: parseFeatures on mutated side-feature data (RecBole .item with token, token_seq,
// float and float_seq columns; TSV and CSV with headers). The first byte picks the source name and
// the options (unknownIds, fillMissing, skipMalformed, separator). A successful parse must give
// bags whose indices stay inside each field's vocabulary and dense rows of the declared width.
// One input in FILE_EVERY also goes through loadFeatures from a file, which must agree.
'use strict';
const path = require('node:path');
const rb = require(path.join(__dirname, '..', '..', 'dist'));
const { dataExecutor } = require('./file-twin');

const VARIANTS = [
  { name: 'a.item', options: {} },
  { name: 'a.item', options: { unknownIds: 'add', fillMissing: true } },
  { name: 'a.item', options: { unknownIds: 'error', skipMalformed: true } },
  { name: 'a.user', options: { separator: ',' } },
  { name: 'a.csv', options: { fillMissing: true } },
  { name: 'a.tsv', options: { skipMalformed: true, unknownIds: 'add' } },
];

const SEEDS = [
  [0, 'item_id:token\tclass:token_seq\tyear:float\temb:float_seq\n1\tAction Comedy\t1995\t0.1 0.2 0.3\n2\tDrama\t1994\t1 2 3\n3\t\t\t\n'],
  [1, 'item_id:token\tgenre:token\tprice:float\n1\tx\tNaN\n9\ty\t2.5\n'],
  [2, 'item_id:token\ttags:token_seq\n1\ta b c\n1\td\nq\te\n'],
  [3, 'user_id:token\tage:float\tocc:token\thist:float_seq\n1\t24\ttech\t1,2\n2\t53\tother\t3,4\n'],
  [4, 'id,kind,score\n1,a,0.5\n2,b,\n3,c,1e3\n'],
  [5, 'id\tkind\n1\ta\n4\tb\n'],
].map(([v, text]) => Buffer.concat([Buffer.from([v]), Buffer.from(text, 'utf8')]));

function check({ features }, rows) {
  for (const name of features.fields) {
    const kind = features.field(name).kind;
    if (kind !== 'dense') {
      const { vocabulary, bags } = features.bags([name]);
      if (bags.offsets.length !== rows + 1) throw new Error(`post-condition: ${name} bags have ${bags.offsets.length} offsets`);
      for (const i of bags.indices)
        if (!(i >= 0 && i < vocabulary)) throw new Error(`post-condition: ${name} index ${i} outside its vocabulary`);
    } else {
      const dense = features.dense([name]);
      if (dense.values.length !== rows * dense.dim) throw new Error(`post-condition: ${name} dense has ${dense.values.length} values`);
      for (const v of dense.values) if (!Number.isFinite(v)) throw new Error(`post-condition: ${name} holds a non-finite value`);
    }
  }
}

function summary({ features, missing, unknown, skipped, filled }) {
  const fields = features.fields.map((name) => {
    const f = features.field(name);
    if (f.kind === 'dense') return [name, f.dim, [...f.values], [...f.present]];
    if (f.kind === 'categorical') return [name, f.vocabulary.toArray(), [...f.codes]];
    return [name, f.vocabulary.toArray(), [...f.offsets], [...f.indices]];
  });
  return JSON.stringify([features.entities.toArray(), fields, missing, unknown, skipped, filled]);
}

const entities = () => new rb.Vocabulary(['1', '2', '3', '4']);
const execute = dataExecutor({
  variants: VARIANTS,
  parse: (data, v) => rb.parseFeatures(data, { entities: entities(), ...v.options, name: v.name }),
  load: (file, v) => rb.loadFeatures(file, { entities: entities(), ...v.options }),
  summary,
  check: (loaded) => check(loaded, loaded.features.entities.size),
});

module.exports = async function featuresTarget() {
  return {
    name: 'features',
    seeds: SEEDS,
    dictionary: [
      '\t',
      ',',
      ' ',
      '\n',
      ':token',
      ':float',
      ':token_seq',
      ':float_seq',
      ':bogus',
      'item_id',
      'user_id',
      'NaN',
      '-Infinity',
      '1e309',
      '\uFEFF',
      '\u0000',
      '""',
      '\u00e9',
    ],
    variant: (buf) => (buf.length ? String(buf[0] % VARIANTS.length) : '-'),
    execute,
    expected: (err) => err && err.code === 'ERR_MALFORMED_DATA',
  };
};
