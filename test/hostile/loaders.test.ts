// Hostile files against every loader: each file is small and asks for much (gigabytes, seconds,
// a deep stack). Each runs in a child process that measures its own peak memory during the call,
// and must end in a coded error (or, where the file is legitimate apart from what the caller did
// not ask for, in a result) with peak extra memory below max(64 MB, 2 × the file's size), well
// within a deadline. docs/bad-input.md lists the limits these files run into.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import {
  ProtoWriter,
  deepArrays,
  editedModel,
  flatZeros,
  manyTensorsHeader,
  npyHeader,
  safetensorsBytes,
  smallArrayEntry,
  sparse,
  vocabularyTensorModel,
  write,
  zeroBomb,
  zipBytes,
} from './files';
import { type ChildReport, dist, runChild } from './run-child';

const MB = 1e6;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-hostile-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Expect {
  /** The error code (one of them); omitted when the call must succeed. */
  code?: string | readonly string[];
  /** The option a LimitExceededError names. */
  limit?: string;
  message?: RegExp;
  /** A result is acceptable too (the file is within every limit, and loading it stays in budget). */
  orOk?: boolean;
}

interface Case {
  title: string;
  loader: string;
  make: () => string | Promise<string>;
  options?: Record<string, unknown>;
  expect: Expect;
  /** A sparse file: its size says nothing of its bytes, so the budget is the 64 MB floor. */
  sparse?: boolean;
  /** A budget of its own, for limits the caller raised. */
  budgetBytes?: number;
}

function budget(file: string, isSparse = false): number {
  return isSparse ? 64 * MB : Math.max(64 * MB, 2 * fs.statSync(file).size);
}

async function check(c: Case): Promise<ChildReport> {
  const file = await c.make();
  const allowed = c.budgetBytes ?? budget(file, c.sparse);
  const ceiling = Number(process.env.RECBRIDGE_HOSTILE_CEILING_MB ?? 0) * MB || allowed + 512 * MB;
  const report = await runChild({ loader: c.loader, file, options: c.options }, ceiling, 60_000);
  fs.rmSync(file, { force: true });
  results.push([c.title, report]);
  const shown = { ...report, extraMB: Math.round(report.extraBytes / MB), budgetMB: Math.round(allowed / MB) };
  if (c.expect.code === undefined) expect(shown).toMatchObject({ ok: true });
  else if (!(c.expect.orOk && report.ok)) {
    const codes = typeof c.expect.code === 'string' ? [c.expect.code] : c.expect.code;
    expect(shown).toMatchObject({ ok: false });
    expect(codes).toContain(report.code);
    if (c.expect.limit) expect(shown).toMatchObject({ name: 'LimitExceededError', limit: c.expect.limit });
    if (c.expect.message) expect(report.message).toMatch(c.expect.message);
  }
  expect(report.extraBytes).toBeLessThan(allowed);
  return report;
}

const results: [string, ChildReport][] = [];
function run(cases: Case[]): void {
  for (const c of cases) {
    test(c.title, () => check(c), 120_000);
  }
}

afterAll(() => {
  if (process.env.RECBRIDGE_HOSTILE_REPORT)
    fs.writeFileSync(
      process.env.RECBRIDGE_HOSTILE_REPORT,
      results
        .map(([t, r]) => `${t}\t${r.ok ? 'ok' : (r.killed ?? r.code)}\t${(r.extraBytes / MB).toFixed(1)} MB\t${r.ms.toFixed(0)} ms\n`)
        .join(''),
    );
});

test('the child loads the built package', () => {
  expect(fs.existsSync(path.join(dist, 'index.js'))).toBe(true);
});

describe('safetensors headers (loadModel, inspectModel, readSafetensors, importEmbeddings)', () => {
  const deepHeader = () => write(dir, 'deep.safetensors', safetensorsBytes(`{"a":${deepArrays(5_000_000)}}`));
  run([
    {
      title: 'a header length past the end of the file',
      loader: 'loadModel',
      make: () => {
        const b = Buffer.alloc(64, 0x20);
        b.writeBigUInt64LE(1n << 60n);
        return write(dir, 'length.safetensors', b);
      },
      expect: { code: 'ERR_CORRUPT_FILE' },
    },
    {
      title: 'a 150 MB header (a sparse file) is refused before it is read',
      loader: 'inspectModel',
      make: () => {
        const b = Buffer.alloc(9);
        b.writeBigUInt64LE(150_000_000n);
        b[8] = 0x7b;
        return sparse(dir, 'long-header.safetensors', b, 160_000_000);
      },
      sparse: true,
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxHeaderBytes' },
    },
    ...(['loadModel', 'inspectModel', 'readSafetensors', 'importEmbeddings'] as const).map((loader) => ({
      title: `a header nested 5,000,000 deep (10 MB): ${loader}`,
      loader,
      make: deepHeader,
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxJsonDepth' },
    })),
    {
      title: '130,000 tensors',
      loader: 'loadModel',
      make: () => write(dir, 'many.safetensors', safetensorsBytes(manyTensorsHeader(130_000))),
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxTensors' },
    },
    {
      title: '130,000 tensors with the limits raised: read without overflowing the stack',
      loader: 'readSafetensors',
      options: { maxTensors: 200_000, maxJsonValues: 2_000_000 },
      make: () => write(dir, 'many-raised.safetensors', safetensorsBytes(manyTensorsHeader(130_000))),
      expect: {},
      // Raised limits buy structure: each tensor read costs about 1.5 KB (its entry, views, map slots).
      budgetBytes: 130_000 * 2_500,
    },
    {
      title: 'a tensor of 1,000,000 dimensions',
      loader: 'inspectModel',
      make: () =>
        write(dir, 'dims.safetensors', safetensorsBytes(`{"t":{"dtype":"U8","shape":${flatZeros(1_000_000)},"data_offsets":[0,0]}}`)),
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxDims' },
    },
    {
      title: '__metadata__ with 2,000,000 keys',
      loader: 'readSafetensors',
      make: () => {
        const keys = Array.from({ length: 2_000_000 }, (_, i) => `"${i.toString(36)}":""`).join(',');
        return write(dir, 'meta.safetensors', safetensorsBytes(`{"__metadata__":{${keys}}}`));
      },
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxJsonValues' },
    },
  ]);
});

describe('JSON inside a model file (valid checksums: the file reaches the JSON)', () => {
  run([
    {
      title: 'provenance nested 2,000,000 deep: inspectModel',
      loader: 'inspectModel',
      make: () =>
        editedModel(dir, 'deep-provenance.safetensors', (m) => {
          m['recbridge.provenance'] = deepArrays(2_000_000);
        }),
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxJsonDepth', message: /recbridge\.provenance/ },
    },
    {
      title: 'provenance of 4,000,000 values: loadModel',
      loader: 'loadModel',
      make: () =>
        editedModel(dir, 'wide-provenance.safetensors', (m) => {
          m['recbridge.provenance'] = flatZeros(4_000_000);
        }),
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxJsonValues' },
    },
    {
      title: 'an inline vocabulary of 4,000,000 ids for 3 rows',
      loader: 'loadModel',
      make: () =>
        editedModel(dir, 'wide-vocabulary.safetensors', (m) => {
          m['recbridge.vocabularies'] = `{"users":[${'"",'.repeat(3_999_999)}""]}`;
        }),
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxJsonValues' },
    },
    {
      title: 'a vocabulary tensor nested 5,000,000 deep',
      loader: 'loadModel',
      make: () => vocabularyTensorModel(dir, 'deep-vocabulary.safetensors', deepArrays(5_000_000)),
      expect: { code: 'ERR_CORRUPT_FILE', message: /list of 3 string ids/ },
    },
    {
      title: 'a vocabulary tensor of 4,000,000 ids for 3 rows',
      loader: 'loadModel',
      make: () => vocabularyTensorModel(dir, 'long-vocabulary.safetensors', `[${'"u",'.repeat(3_999_999)}"u"]`),
      expect: { code: 'ERR_CORRUPT_FILE', message: /list of 3 string ids/ },
    },
  ]);
});

describe('.npz archives and .npy arrays (importEmbeddings)', () => {
  const bombHead = npyHeader('<f4', '100663296, 4'); // 1.5 GiB of float32
  const bomb = () => zeroBomb(bombHead, 1536);
  run([
    {
      title: 'an entry declaring 1.5 GiB in 1.5 MB',
      loader: 'importEmbeddings',
      make: () => {
        const b = bomb();
        return write(dir, 'bomb.npz', zipBytes([{ name: 'item_factors.npy', body: b.body, method: 8, crc: b.crc, size: b.size }]));
      },
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxInflateRatio' },
    },
    {
      title: 'an entry declaring 1 MiB that inflates to 1.5 GiB',
      loader: 'importEmbeddings',
      make: () => {
        const b = zeroBomb(npyHeader('<f4', '65504, 4'), 1536); // 128 + 65504 × 4 × 4 = 1 MiB
        return write(dir, 'liar.npz', zipBytes([{ name: 'item_factors.npy', body: b.body, method: 8, crc: b.crc, size: 1 << 20 }]));
      },
      expect: { code: 'ERR_CORRUPT_FILE', message: /inflates to more than the 1048576 bytes/ },
    },
    {
      title: 'a 512 MiB entry with a wrong CRC-32, the ratio limit raised: checked before it is kept',
      loader: 'importEmbeddings',
      options: { maxInflateRatio: 10_000 },
      make: () => {
        const b = zeroBomb(npyHeader('<f4', '33554432, 4'), 512);
        return write(dir, 'bad-crc.npz', zipBytes([{ name: 'item_factors.npy', body: b.body, method: 8, crc: b.crc ^ 1, size: b.size }]));
      },
      expect: { code: 'ERR_CORRUPT_FILE', message: /fails its CRC-32/ },
    },
    {
      title: 'a bomb beside the array asked for is never inflated',
      loader: 'importEmbeddings',
      options: { tensor: 'item_factors' },
      make: () => {
        const b = bomb();
        return write(
          dir,
          'beside.npz',
          zipBytes([{ name: 'junk.npy', body: b.body, method: 8, crc: b.crc, size: b.size }, smallArrayEntry('item_factors.npy', 10, 4)]),
        );
      },
      expect: {},
    },
    {
      title: 'a bomb beside the array, no name given: headers only, then the question',
      loader: 'importEmbeddings',
      make: () => {
        const b = zeroBomb(npyHeader('<f4', '100663296, 4'), 1536);
        return write(
          dir,
          'beside-unnamed.npz',
          zipBytes([{ name: 'junk.npy', body: b.body, method: 8, crc: b.crc, size: b.size }, smallArrayEntry('item_factors.npy', 10, 4)]),
        );
      },
      expect: { code: 'ERR_OUT_OF_RANGE', message: /"junk", "item_factors"/ },
    },
    {
      title: '10,000 directory entries sharing one 1.5 MB bomb',
      loader: 'importEmbeddings',
      make: () => {
        const b = zeroBomb(npyHeader('<f4', '100663296, 4'), 1536);
        const first = { name: 'a0.npy', body: b.body, method: 8 as const, crc: b.crc, size: b.size };
        const rest = Array.from({ length: 9_999 }, (_, i) => ({ ...first, name: `a${i + 1}.npy`, localOffset: 0 }));
        return write(dir, 'overlap.npz', zipBytes([first, ...rest]));
      },
      expect: { code: 'ERR_CORRUPT_FILE', message: /overlaps/ },
    },
    {
      title: 'a directory claiming 100,000,000 entries',
      loader: 'importEmbeddings',
      make: () => write(dir, 'count.npz', zipBytes([smallArrayEntry('a.npy', 2, 2)], { zip64Count: 100_000_000 })),
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxTensors' },
    },
    {
      title: 'an array of 50,000 dimensions: the header limit',
      loader: 'importEmbeddings',
      make: () => {
        const body = npyHeader('<f4', Array(50_000).fill('1').join(', '), 2);
        return write(dir, 'dims.npz', zipBytes([{ name: 'a.npy', body, method: 0, crc: zlib.crc32(body), size: body.length }]));
      },
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxHeaderBytes' },
    },
    {
      title: 'an array of 50,000 dimensions with the header limit raised: the dimension limit',
      loader: 'importEmbeddings',
      options: { maxHeaderBytes: 1_000_000 },
      make: () => {
        const body = npyHeader('<f4', Array(50_000).fill('1').join(', '), 2);
        return write(dir, 'dims-raised.npz', zipBytes([{ name: 'a.npy', body, method: 0, crc: zlib.crc32(body), size: body.length }]));
      },
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxDims' },
    },
    {
      title: 'a .npy header claiming 4 GB (a sparse 4.3 GB file)',
      loader: 'importEmbeddings',
      make: () => {
        const head = Buffer.alloc(12);
        Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]).copy(head);
        head.writeUInt32LE(0xfffffff0, 8);
        return sparse(dir, 'long-header.npy', head, 4_300_000_000);
      },
      sparse: true,
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxHeaderBytes' },
    },
    {
      title: 'a .npy shape of 10^18 elements',
      loader: 'importEmbeddings',
      make: () => write(dir, 'huge-shape.npy', npyHeader('<f4', '1000000000, 1000000000')),
      expect: { code: 'ERR_CORRUPT_FILE' },
    },
  ]);
});

describe('id lists (readIdList)', () => {
  run([
    {
      title: 'one line of 100 MB',
      loader: 'readIdList',
      make: () => write(dir, 'line.txt', Buffer.alloc(100 * MB, 0x61)),
      expect: { code: 'ERR_LIMIT_EXCEEDED', limit: 'maxIdBytes' },
    },
  ]);
});

let onnxruntime = true;
try {
  require.resolve('onnxruntime-node');
} catch {
  onnxruntime = false;
}

(onnxruntime ? describe : describe.skip)('ONNX encoders (encodeWithOnnx on a file)', () => {
  /** A model y = x + w with one float initializer w. */
  const model = (initializer: ProtoWriter) => {
    const input = (name: string) => new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, new ProtoWriter().int(1, 1)));
    const node = new ProtoWriter().string(1, 'x').string(1, 'w').string(2, 'y').string(4, 'Add');
    const graph = new ProtoWriter().message(1, node).string(2, 'g').message(5, initializer).message(11, input('x')).message(12, input('y'));
    return new ProtoWriter().int(1, 8).message(8, new ProtoWriter().string(1, '').int(2, 17)).message(7, graph).finish();
  };
  run([
    {
      title: 'bytes that are not a protobuf',
      loader: 'encodeWithOnnx',
      make: () => write(dir, 'garbage.onnx', Buffer.alloc(10 * MB, 0xff)),
      expect: { code: 'ERR_CORRUPT_FILE' },
    },
    {
      title: 'subgraphs nested 5,000 deep',
      loader: 'encodeWithOnnx',
      make: () => {
        let g = new ProtoWriter().string(2, 'g');
        for (let i = 0; i < 5_000; i++) {
          const attribute = new ProtoWriter().string(1, 'then_branch').message(6, g).int(20, 5);
          g = new ProtoWriter().message(1, new ProtoWriter().string(4, 'If').message(5, attribute)).string(2, `g${i}`);
        }
        return write(dir, 'deep.onnx', new ProtoWriter().int(1, 8).message(7, g).finish());
      },
      expect: { code: 'ERR_CORRUPT_FILE' },
    },
    {
      title: 'an initializer declaring 4 TB',
      loader: 'encodeWithOnnx',
      make: () =>
        write(dir, 'huge.onnx', model(new ProtoWriter().packedInts(1, [1e6, 1e6]).int(2, 1).string(8, 'w').bytes(9, new Uint8Array(8)))),
      expect: { code: 'ERR_CORRUPT_FILE' },
    },
    {
      title: 'external data outside the model folder',
      loader: 'encodeWithOnnx',
      make: () => {
        const entry = (k: string, v: string) => new ProtoWriter().string(1, k).string(2, v);
        const w = new ProtoWriter()
          .packedInts(1, [2])
          .int(2, 1)
          .string(8, 'w')
          .message(13, entry('location', '../../../../etc/passwd'))
          .message(13, entry('length', '8'))
          .int(14, 1);
        return write(dir, 'external.onnx', model(w));
      },
      expect: { code: 'ERR_CORRUPT_FILE' },
    },
  ]);
});

describe('delimited text (loadInteractions, loadFeatures)', () => {
  run([
    {
      title: 'an interaction file of one 64 MB line',
      loader: 'loadInteractions',
      make: () => write(dir, 'line.tsv', Buffer.alloc(64 * MB, 0x61)),
      expect: { code: ['ERR_LIMIT_EXCEEDED', 'ERR_MALFORMED_DATA'], message: /maxRecordLength/ },
    },
  ]);
  // Each loaded column keeps its own builders, so loadFeatures bounds the columns (maxColumns).
  test(
    'a feature file with a 400 KB header of 100,000 columns',
    () =>
      check({
        title: 'a feature file with a 400 KB header of 100,000 columns',
        loader: 'loadFeatures',
        options: { format: 'tsv', entities: ['e1', 'e2'] },
        make: () => {
          const header = Array.from({ length: 100_000 }, (_, i) => `c${i}`).join('\t');
          const row = (id: string) => [id, ...Array(99_999).fill('1')].join('\t');
          return write(dir, 'wide.tsv', Buffer.from(`${header}\n${row('e1')}\n${row('e2')}\n`));
        },
        expect: { code: ['ERR_LIMIT_EXCEEDED'], message: /maxColumns/ },
      }),
    120_000,
  );
});
