// Files written without recbridge's writer must load: a hand-built buffer with other layout choices
// (Python-style JSON separators, no alignment, a tensor that leaves the floats 4-byte misaligned),
// and, when python3 is on the machine, a file from a Python writer using only struct, json, zlib
// and array.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import { loadModel, type MatrixFactorization } from '../../lib';
import { native } from '../../lib/core/native';
import { tempDir } from './helpers';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const crcHex = (b: Uint8Array) => (zlib.crc32(b) >>> 0).toString(16).padStart(8, '0');

function handBuilt(): { file: string; user: Float32Array; item: Float32Array; bias: Float32Array } {
  const user = Float32Array.from({ length: 3 * 2 }, (_, i) => i + 0.5);
  const item = Float32Array.from({ length: 4 * 2 }, (_, i) => -i / 3);
  const bias = Float32Array.of(0.25, -1, 2, 1e-20);
  // frozen flags for the 3 users first: every float tensor after them starts at an odd offset.
  const frozen = Uint8Array.of(0, 1, 0);
  const parts: [string, string, number[], Uint8Array][] = [
    ['frozen.user.embedding', 'U8', [3], frozen],
    ['item.bias', 'F32', [4, 1], new Uint8Array(bias.buffer)],
    ['user.embedding', 'F32', [3, 2], new Uint8Array(user.buffer)],
    ['item.embedding', 'F32', [4, 2], new Uint8Array(item.buffer)],
  ];
  const header: Record<string, unknown> = {};
  const checksums: Record<string, string> = {};
  let at = 0;
  for (const [name, dtype, shape, bytes] of parts) {
    header[name] = { dtype, shape, data_offsets: [at, at + bytes.length] };
    checksums[name] = crcHex(bytes);
    at += bytes.length;
  }
  header.__metadata__ = {
    'recbridge.header_crc32': '00000000',
    'recbridge.format_version': '1',
    'recbridge.kind': 'matrix-factorization',
    'recbridge.config': JSON.stringify({ users: 3, items: 4, dim: 2, itemBias: true, seed: 0, initScale: 0.1 }),
    'recbridge.parameters': JSON.stringify({
      'user.embedding': { trainable: true, lrMultiplier: 1, frozenRows: true, optimizer: null },
      'item.embedding': { trainable: false, lrMultiplier: 1, frozenRows: false, optimizer: null },
      'item.bias': { trainable: true, lrMultiplier: 0.5, frozenRows: false, optimizer: null },
    }),
    'recbridge.epochs_trained': '4',
    'recbridge.checksums': JSON.stringify(checksums),
  };
  // Python's json.dumps separators, and no padding at all.
  const json = Buffer.from(JSON.stringify(header).replace(/":/g, '": ').replace(/,"/g, ', "'));
  const pos = json.indexOf('"recbridge.header_crc32": "') + '"recbridge.header_crc32": "'.length;
  json.write(crcHex(json), pos, 'latin1');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const file = path.join(dir, 'hand.safetensors');
  fs.writeFileSync(file, Buffer.concat([length, json, ...parts.map((p) => p[3])]));
  return { file, user, item, bias };
}

it('loads a hand-built file with unaligned tensors and Python-style JSON', async () => {
  const { file, user, item, bias } = handBuilt();
  const { model, optimizerState } = await loadModel(file);
  const m = model as MatrixFactorization;
  expect(optimizerState).toBe(false);
  expect(Array.from(m.userEmbedding.table.data)).toEqual(Array.from(user));
  expect(Array.from(m.itemEmbedding.table.data)).toEqual(Array.from(item));
  expect(Array.from(m.itemBias!.table.data)).toEqual(Array.from(bias));
  expect(m.userEmbedding.table.shared).toBe(true);
  // Every table is moved onto a cache-line boundary, though none is aligned in the file.
  for (const p of m.parameters()) expect(native.byteAlignment(p.table.data)).toBe(0);
  expect([0, 1, 2].map((r) => m.userEmbedding.isRowFrozen(r))).toEqual([false, true, false]);
  expect(m.itemEmbedding.trainable).toBe(false);
  expect(m.itemBias!.lrMultiplier).toBe(0.5);
  expect(m.epochsTrained).toBe(4);
});

const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => fs.existsSync(p));
const PY_WRITER = `
import array, json, struct, sys, zlib
users, items, dim = 5, 7, 3
u = array.array('f', [i * 0.125 for i in range(users * dim)])
v = array.array('f', [-i * 0.5 for i in range(items * dim)])
assert sys.byteorder == 'little'
tensors = [('user.embedding', u, [users, dim]), ('item.embedding', v, [items, dim])]
header, checks, at, blobs = {}, {}, 0, []
for name, arr, shape in tensors:
    b = arr.tobytes()
    header[name] = {'dtype': 'F32', 'shape': shape, 'data_offsets': [at, at + len(b)]}
    checks[name] = '%08x' % (zlib.crc32(b) & 0xffffffff)
    at += len(b)
    blobs.append(b)
params = {n: {'trainable': True, 'lrMultiplier': 1.0, 'frozenRows': False, 'optimizer': None} for n, _, _ in tensors}
header['__metadata__'] = {
    'recbridge.format_version': '1', 'recbridge.kind': 'matrix-factorization',
    'recbridge.config': json.dumps({'users': users, 'items': items, 'dim': dim, 'itemBias': False, 'seed': 0, 'initScale': 0.1}),
    'recbridge.parameters': json.dumps(params), 'recbridge.epochs_trained': '0',
    'recbridge.vocabularies': json.dumps({'items': ['item-%d' % i for i in range(items)]}),
    'recbridge.checksums': json.dumps(checks), 'recbridge.header_crc32': '00000000'}
text = json.dumps(header).encode('utf-8')
text += b' ' * ((8 - (len(text) + 8) % 8) % 8)
key = b'"recbridge.header_crc32": "'
pos = text.index(key) + len(key)
text = text[:pos] + ('%08x' % (zlib.crc32(text) & 0xffffffff)).encode() + text[pos + 8:]
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
`;

(python ? it : it.skip)('loads a file written by a Python struct + json writer', async () => {
  const file = path.join(dir, 'python.safetensors');
  const r = spawnSync(python!, ['-c', PY_WRITER, file], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const { model, vocabularies } = await loadModel(file);
  const m = model as MatrixFactorization;
  expect(Array.from(m.userEmbedding.table.data)).toEqual(Array.from({ length: 15 }, (_, i) => i * 0.125));
  expect(Array.from(m.itemEmbedding.table.data)).toEqual(Array.from({ length: 21 }, (_, i) => -i * 0.5 || 0));
  expect(vocabularies.items!.id(6)).toBe('item-6');
  expect(vocabularies.users).toBeUndefined();
});
