// The pieces behind the loaders' limits, tested where a hostile-file run (test/hostile) cannot
// look: the JSON scan against JSON.parse on generated values, the header-checksum search against
// the regular expression it replaced, the options that raise each limit, and the streaming readers
// (id lists, .npz entries) at their chunk boundaries.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import fc from 'fast-check';

import { MatrixFactorization, importEmbeddings, inspectModel, loadModel, readIdList, readSafetensors, saveModel } from '../../lib';
import { scanJson } from '../../lib/io/json-scan';
import { DEFAULT_FILE_LIMITS } from '../../lib/io/limits';
import { headerCrcPosition } from '../../lib/io/safetensors/header-checksum';
import { npyHeader, zipBytes } from '../hostile/files';
import { tempDir } from './helpers';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);

/** What the scan should report, computed on the parsed value. */
function shapeOf(v: unknown, depth = 0): { depth: number; nodes: number; longestArray: number } {
  if (v === null || typeof v !== 'object') return { depth, nodes: 1, longestArray: 0 };
  const children = Array.isArray(v) ? v : Object.values(v);
  let out = { depth: depth + 1, nodes: 1, longestArray: Array.isArray(v) ? v.length : 0 };
  for (const c of children) {
    const s = shapeOf(c, depth + 1);
    out = { depth: Math.max(out.depth, s.depth), nodes: out.nodes + s.nodes, longestArray: Math.max(out.longestArray, s.longestArray) };
  }
  return out;
}

describe('scanJson', () => {
  const unbounded = { maxDepth: 1e9, maxValues: 1e12 };

  it('reports the depth, outer members and longest array that JSON.parse finds, on bytes and strings alike', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (value, spaced) => {
        const text = JSON.stringify(value, null, spaced ? 2 : undefined);
        const want = shapeOf(value);
        const fromBytes = scanJson(Buffer.from(text, 'utf8'), unbounded);
        const fromString = scanJson(text, unbounded);
        expect(fromString).toEqual(fromBytes);
        expect(fromBytes.passed).toBeNull();
        expect(fromBytes.shape.depth).toBe(want.depth);
        expect(fromBytes.shape.longestArray).toBe(want.longestArray);
        const outer = value !== null && typeof value === 'object' ? Object.keys(value).length : 0;
        expect(fromBytes.shape.members).toBe(outer);
        // Every value counts, and object members (keys, separators) at most twice more.
        expect(fromBytes.shape.values).toBeGreaterThanOrEqual(want.nodes);
        expect(fromBytes.shape.values).toBeLessThanOrEqual(3 * want.nodes);
      }),
      { numRuns: 300 },
    );
  });

  it('skips brackets, commas and escaped quotes inside strings', () => {
    const text = JSON.stringify({ a: '[[[{,,,}]]] \\" \\\\" "', b: ['\\', '"', '\\"'] });
    expect(scanJson(text, unbounded).shape).toMatchObject({ depth: 2, members: 2, longestArray: 3 });
  });

  it('stops at the first bound passed', () => {
    const deep = `${'['.repeat(200)}${']'.repeat(200)}`;
    expect(scanJson(deep, { maxDepth: 128, maxValues: 1e9 }).passed).toBe('maxDepth');
    expect(scanJson(deep, { maxDepth: 200, maxValues: 1e9 }).passed).toBeNull();
    expect(scanJson('[1,2,3,4]', { maxDepth: 8, maxValues: 1e9, maxArray: 3 }).passed).toBe('maxArray');
    expect(scanJson('{"a":1,"b":2,"c":3}', { maxDepth: 8, maxValues: 1e9, maxMembers: 2 }).passed).toBe('maxMembers');
    expect(scanJson('[0,0,0,0,0]', { maxDepth: 8, maxValues: 5 }).passed).toBe('maxValues');
  });
});

describe('the header checksum field', () => {
  const FIELD = /"recbridge\.header_crc32"\s*:\s*"/g;
  const reference = (bytes: Buffer): number => {
    const hits = [...bytes.toString('latin1').matchAll(FIELD)];
    if (hits.length === 0) return -1;
    if (hits.length > 1) return -2;
    return hits[0].index! + hits[0][0].length;
  };

  it('is found where the regular expression finds it', () => {
    const piece = fc.constantFrom(
      '"recbridge.header_crc32"',
      ':',
      '"',
      ' ',
      '\t',
      '\n',
      '\xa0',
      '\x0b',
      'x',
      '\\',
      '"recbridge.header_crc3',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
        const bytes = Buffer.from(pieces.join(''), 'latin1');
        expect(headerCrcPosition(bytes)).toBe(reference(bytes));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('options that raise the limits', () => {
  let model: string;
  beforeAll(async () => {
    model = file('m.safetensors');
    await saveModel(model, new MatrixFactorization({ users: 3, items: 4, dim: 2 }), { provenance: { a: [[[1]]] } });
  });

  it('are checked like every option', async () => {
    await expect(loadModel(model, { maxTensors: 0 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE', argument: 'options.maxTensors' });
    await expect(inspectModel(model, { maxJsonDepth: '3' as unknown as number })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_TYPE',
      argument: 'options.maxJsonDepth',
    });
    await expect(readSafetensors(model, { maxDims: 1.5 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });

  it('name the limit passed, and the file loads once it is raised', async () => {
    const info = await inspectModel(model);
    const tensors = info.tensors.length + 1; // with the padding between tensors
    await expect(inspectModel(model, { maxTensors: 1 })).rejects.toMatchObject({
      name: 'LimitExceededError',
      code: 'ERR_LIMIT_EXCEEDED',
      limit: 'maxTensors',
      max: 1,
      message: expect.stringMatching(/raise options\.maxTensors/),
    });
    expect((await inspectModel(model, { maxTensors: tensors })).kind).toBe('matrix-factorization');
    // The header nests three deep ({ tensor: { shape: [] } }); provenance { a: [[[1]]] } four.
    await expect(loadModel(model, { maxJsonDepth: 3 })).rejects.toMatchObject({
      limit: 'maxJsonDepth',
      message: expect.stringMatching(/recbridge\.provenance/),
    });
    expect((await loadModel(model, { maxJsonDepth: 4 })).provenance).toEqual({ a: [[[1]]] });
    await expect(readSafetensors(model, { maxHeaderBytes: 100 })).rejects.toMatchObject({ limit: 'maxHeaderBytes' });
    await expect(readSafetensors(model, { maxJsonValues: 10 })).rejects.toMatchObject({ limit: 'maxJsonValues' });
  });

  it('saveModel refuses provenance that loadModel would refuse by default', async () => {
    let deep: unknown = 1;
    for (let i = 0; i <= DEFAULT_FILE_LIMITS.maxJsonDepth; i++) deep = [deep];
    await expect(
      saveModel(file('deep.safetensors'), new MatrixFactorization({ users: 1, items: 1, dim: 1 }), { provenance: { deep } }),
    ).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      argument: 'options.provenance',
    });
  });
});

describe('readIdList streams', () => {
  it('splits lines across chunk boundaries, with Windows line ends and a byte order mark', async () => {
    const ids = Array.from({ length: 150_000 }, (_, i) => `id-${i}-é`);
    const text = `\ufeff${ids.join('\r\n')}`; // about 2 MB: lines cross the 1 MiB chunks
    fs.writeFileSync(file('ids.txt'), text);
    expect((await readIdList(file('ids.txt'))).toArray()).toEqual(ids);
    fs.writeFileSync(file('lf.txt'), `${ids.slice(0, 3).join('\n')}\n`);
    expect((await readIdList(file('lf.txt'))).toArray()).toEqual(ids.slice(0, 3));
  });

  it('bounds a line at maxIdBytes (a Windows line end does not count)', async () => {
    fs.writeFileSync(file('four.txt'), 'abcd\r\nab\n');
    expect((await readIdList(file('four.txt'), { maxIdBytes: 4 })).toArray()).toEqual(['abcd', 'ab']);
    fs.writeFileSync(file('five.txt'), 'ab\nabcde');
    await expect(readIdList(file('five.txt'), { maxIdBytes: 4 })).rejects.toMatchObject({
      code: 'ERR_LIMIT_EXCEEDED',
      limit: 'maxIdBytes',
      message: expect.stringMatching(/line 2 is longer than 4 bytes/),
    });
    // Past the limit inside one chunk, with no line break at all.
    fs.writeFileSync(file('long.txt'), Buffer.alloc(3 << 20, 0x61));
    await expect(readIdList(file('long.txt'))).rejects.toMatchObject({ limit: 'maxIdBytes' });
  });
});

describe('.npz entries are streamed', () => {
  const entry = (name: string, data: Buffer, deflate: boolean) => {
    const body = deflate ? zlib.deflateRawSync(data) : data;
    return { name, body, method: (deflate ? 8 : 0) as 0 | 8, crc: zlib.crc32(data), size: data.length };
  };

  it('inflates a multi-chunk entry exactly, and rejects it when its CRC-32 disagrees', async () => {
    const rows = 200_000;
    const values = Float32Array.from({ length: rows * 4 }, (_, i) => Math.sin(i));
    const data = Buffer.concat([npyHeader('<f4', `${rows}, 4`), Buffer.from(values.buffer)]);
    fs.writeFileSync(file('big.npz'), zipBytes([entry('v.npy', data, true)]));
    const { table } = await importEmbeddings(file('big.npz'));
    expect(table.rows).toBe(rows);
    expect(Buffer.from(table.data.buffer, table.data.byteOffset, table.data.byteLength).equals(Buffer.from(values.buffer))).toBe(true);
    fs.writeFileSync(file('badcrc.npz'), zipBytes([{ ...entry('v.npy', data, true), crc: 1 }]));
    await expect(importEmbeddings(file('badcrc.npz'))).rejects.toMatchObject({
      code: 'ERR_CORRUPT_FILE',
      message: expect.stringMatching(/CRC-32/),
    });
  });

  it('holds a highly compressible entry to maxInflateRatio, and reads it once raised (verified before it is kept)', async () => {
    const rows = 5 << 20; // 20 MiB of float32 zeros deflate about a thousand times
    const data = Buffer.concat([npyHeader('<f4', `${rows}, 1`), Buffer.alloc(rows * 4)]);
    fs.writeFileSync(file('zeros.npz'), zipBytes([entry('z.npy', data, true)]));
    await expect(importEmbeddings(file('zeros.npz'))).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxInflateRatio' });
    const { table } = await importEmbeddings(file('zeros.npz'), { maxInflateRatio: 10_000 });
    expect(table.rows).toBe(rows);
    expect(table.data.every((x) => x === 0)).toBe(true);
    fs.writeFileSync(file('zeros-bad.npz'), zipBytes([{ ...entry('z.npy', data, true), crc: 7 }]));
    await expect(importEmbeddings(file('zeros-bad.npz'), { maxInflateRatio: 10_000 })).rejects.toMatchObject({
      code: 'ERR_CORRUPT_FILE',
      message: expect.stringMatching(/CRC-32/),
    });
  });

  it('reads a big-endian, Fortran-ordered array', async () => {
    const dict = "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }";
    const header = Buffer.concat([
      Buffer.from([0x93]),
      Buffer.from('NUMPY'),
      Buffer.from([1, 0, dict.length + 1, 0]),
      Buffer.from(`${dict}\n`),
    ]);
    const values = Buffer.alloc(48);
    [1, 4, 2, 5, 3, 6].forEach((v, i) => values.writeDoubleBE(v, i * 8)); // column by column
    fs.writeFileSync(file('f.npy'), Buffer.concat([header, values]));
    expect(Array.from((await importEmbeddings(file('f.npy'))).table.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
