// Fuzz target: loadModel / inspectModel on corrupted model files. Seeds are real saves (matrix
// factorization with bias, vocabularies, Adagrad or Adam state and frozen rows; a serving file;
// two-tower models with feature bags, dense inputs and MLPs), kept tiny so one load is fast.
//
// Inputs are loaded from memory (loadModelBytes / inspectModelBytes: the loaders' checks without
// the file reads, several times faster); one in FILE_EVERY also goes through the file loaders.
//
// Half of the mutated inputs are "fixed up": the tensor checksums and the header checksum are
// recomputed (and the header re-padded to keep tensor alignment) so the input gets past the
// checksums and reaches the deeper checks — shapes, offsets, metadata, model construction.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const dist = path.join(__dirname, '..', '..', 'dist');
const rb = require(dist);
const { crc32, crcHex } = require(path.join(dist, 'io', 'crc32'));
const { headerCrcPosition, computeHeaderCrc } = require(path.join(dist, 'io', 'safetensors', 'header-checksum'));
const { loadModelBytes, inspectModelBytes } = require(path.join(dist, 'io', 'model-file', 'load'));
const { FILE_EVERY, differential } = require('./file-twin');

const EXPECTED = new Set(['ERR_CORRUPT_FILE', 'ERR_UNSUPPORTED_VERSION', 'ERR_UNSUPPORTED_FORMAT', 'ERR_LIMIT_EXCEEDED']);
const dir = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const file = path.join(dir, `recbridge-fuzz-${process.pid}.safetensors`);
process.on('exit', () => fs.rmSync(file, { force: true }));

async function makeSeeds() {
  const seeds = [];
  const save = async (model, options) => {
    await rb.saveModel(file, model, options);
    seeds.push(fs.readFileSync(file));
  };
  const users = new rb.Vocabulary(['u1', 'u2', 'u3', 'ü4', 'u5']);
  const items = new rb.Vocabulary(['i1', 'i2', 'i3', 'i4', 'i5', 'i6']);
  const train = new rb.Interactions({ users: new Int32Array([0, 1, 2, 3, 4, 0]), items: new Int32Array([0, 1, 2, 3, 4, 5]) });
  for (const optimizer of ['adagrad', 'adam', 'rowwise-adagrad']) {
    const mf = new rb.MatrixFactorization({ users: 5, items: 6, dim: 4, itemBias: true, seed: 1 });
    await rb.Trainer.fit(mf, train, { epochs: 1, optimizer: { type: optimizer, lr: 0.05 }, threads: 1 });
    mf.parameter('item.embedding').freezeRows([1, 3]);
    await save(mf, { vocabularies: { users, items }, provenance: { data: 'fuzz', n: 1 } });
  }
  const plain = new rb.MatrixFactorization({ users: 3, items: 2, dim: 2, seed: 2 });
  await save(plain, { optimizerState: false });
  const tt = new rb.TwoTower({
    users: 3,
    items: 4,
    dim: 4,
    similarity: 'cosine',
    temperature: 0.1,
    user: {
      idEmbedding: true,
      features: { vocabulary: 5, bags: { offsets: new Int32Array([0, 1, 1, 3]), indices: new Int32Array([0, 2, 4]) } },
    },
    item: { idEmbedding: false, dense: { values: new Float32Array(4 * 3).fill(0.5), dim: 3 }, mlp: [5, 4] },
  });
  await save(tt, { vocabularies: { items: new rb.Vocabulary(['a', 'b', 'c', 'd']) } });
  return seeds;
}

/** Re-derives every checksum of a (possibly mutated) file whose header still parses. */
function fixup(buf) {
  if (buf.length < 10) return buf;
  const len = Number(buf.readBigUInt64LE(0));
  if (len < 2 || 8 + len > buf.length) return buf;
  let header;
  try {
    header = JSON.parse(buf.subarray(8, 8 + len).toString('utf8'));
  } catch {
    return buf;
  }
  if (!header || typeof header !== 'object' || !header.__metadata__ || typeof header.__metadata__ !== 'object') return buf;
  const data = buf.subarray(8 + len);
  const sums = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__' || !t || !Array.isArray(t.data_offsets)) continue;
    const [a, b] = t.data_offsets;
    if (Number.isInteger(a) && Number.isInteger(b) && a >= 0 && a <= b && b <= data.length) sums[name] = crcHex(crc32(data.subarray(a, b)));
  }
  if (typeof header.__metadata__['recbridge.checksums'] === 'string') header.__metadata__['recbridge.checksums'] = JSON.stringify(sums);
  if ('recbridge.header_crc32' in header.__metadata__) header.__metadata__['recbridge.header_crc32'] = '00000000';
  let text = Buffer.from(JSON.stringify(header), 'utf8');
  // Keep the data start on the same 64-byte phase so the tensors stay aligned.
  const pad = (((8 + len) % 64) - ((8 + text.length) % 64) + 64) % 64;
  text = Buffer.concat([text, Buffer.alloc(pad, 0x20)]);
  const pos = headerCrcPosition(text);
  if (pos >= 0) text.write(computeHeaderCrc(text, pos), pos, 'latin1');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([prefix, text, data]);
}

/** What a file load and an in-memory load of the same bytes must agree on. */
function summary(x) {
  if (!x.model) return JSON.stringify({ ...x, path: undefined });
  const tables = x.model
    .parameters()
    .map((p) => [
      p.name,
      p.table.rows,
      p.table.dim,
      crcHex(crc32(new Uint8Array(p.table.data.buffer, p.table.data.byteOffset, p.table.data.byteLength))),
    ]);
  const vocabularies = Object.fromEntries(Object.entries(x.vocabularies).map(([k, v]) => [k, v.toArray()]));
  return JSON.stringify([
    x.kind,
    tables,
    vocabularies,
    x.provenance,
    x.formatVersion,
    x.optimizerState,
    x.bytesRead,
    x.model.epochsTrained,
  ]);
}

let round = 0;
async function execute(buf) {
  // Rotate the three entry points: full load, serving load (skips optimizer state), header only.
  // They run on the bytes in memory; one input in FILE_EVERY also goes through the file loaders,
  // which must agree (FILE_EVERY and 3 are coprime, so every entry point gets file inputs).
  const which = round % 3;
  const viaFile = round++ % FILE_EVERY === 0;
  const inMemory = () => (which === 2 ? inspectModelBytes(buf, file) : loadModelBytes(buf, file, { forServing: which === 1 }));
  let result;
  if (viaFile) {
    fs.writeFileSync(file, buf);
    result = await differential(
      () => (which === 2 ? rb.inspectModel(file) : rb.loadModel(file, { forServing: which === 1 })),
      inMemory,
      summary,
      file,
      file,
    );
  } else {
    result = inMemory();
  }
  if (which === 2) return;
  // A model that loads must be whole: every table the size its shape says, and usable for scoring.
  for (const p of result.model.parameters()) {
    if (p.table.data.length !== p.table.rows * p.table.dim) throw new Error(`post-condition: ${p.name} has a short table`);
  }
  if (result.kind === 'matrix-factorization') {
    const m = result.model;
    const items = m.encodeItems();
    if (items.rows > 0) rb.scoreItems(items, new Float32Array(items.dim), {});
  }
}

module.exports = async function modelFileTarget() {
  return {
    name: 'model-file',
    seeds: await makeSeeds(),
    dictionary: [
      'F32',
      'F16',
      'BF16',
      'F64',
      'I32',
      'U8',
      'I64',
      '__metadata__',
      'data_offsets',
      'shape',
      'dtype',
      'recbridge.format_version',
      'recbridge.kind',
      'matrix-factorization',
      'two-tower',
      'adam',
      'adagrad',
      'sgd',
      'rowwise-adagrad',
      'user.embedding',
      'item.embedding',
      'item.bias',
      'optimizer.item.embedding',
      'frozen.item.embedding',
      '__padding__.0',
      'vocabulary.users',
    ],
    fixup,
    execute,
    expected: (err) => EXPECTED.has(err?.code),
  };
};
