// Importers and exporters against fixtures built here byte by byte (no numpy, no downloads).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import {
  EmbeddingTable,
  Vocabulary,
  exportVectors,
  formatFloat32,
  importEmbeddings,
  readIdList,
  readSafetensors,
  writeIdList,
  writeNpy,
  writeSafetensorsFile,
} from '../../lib';
import { crc32Portable } from '../../lib/io/crc32';
import { tempDir } from './helpers';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);

/** A .npy file: any version, any descr, with the element bytes given. */
function npy(descr: string, shape: number[], data: Buffer, { version = 1, fortran = false } = {}): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }\n`;
  const lenBytes = version === 1 ? 2 : 4;
  const len = Buffer.alloc(lenBytes);
  if (version === 1) len.writeUInt16LE(dict.length);
  else len.writeUInt32LE(dict.length);
  return Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([version, 0]), len, Buffer.from(dict, 'latin1'), data]);
}

const f32 = (xs: number[]) => Buffer.from(Float32Array.from(xs).buffer);

/** A zip archive (stored or deflated entries), optionally with zip64 extras like numpy's savez. */
function zip(entries: { name: string; data: Buffer; deflate?: boolean }[], zip64 = false): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const body = e.deflate ? zlib.deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name);
    const crc = zlib.crc32(e.data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const extra = zip64 ? Buffer.alloc(4 + 24) : Buffer.alloc(0);
    if (zip64) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(e.data.length), 4);
      extra.writeBigUInt64LE(BigInt(body.length), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(zip64 ? 0xffffffff : body.length, 20);
    central.writeUInt32LE(zip64 ? 0xffffffff : e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    centrals.push(central, name, extra);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

describe('CRC-32', () => {
  it('the portable version matches zlib', () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff);
    expect(crc32Portable(bytes)).toBe(zlib.crc32(bytes) >>> 0);
    expect(crc32Portable(bytes.subarray(500), crc32Portable(bytes.subarray(0, 500)))).toBe(zlib.crc32(bytes) >>> 0);
    expect(crc32Portable(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('importEmbeddings from .npy', () => {
  const values = [1.5, -2, 0.25, 3, 1e-8, -0];
  it.each([
    ['<f4', 1, f32(values)],
    ['<f8', 2, Buffer.from(Float64Array.from(values).buffer)],
    ['>f4', 3, Buffer.from(Float32Array.from(values).buffer).swap32()],
  ] as const)('reads %s (format %i.0)', async (descr, version, data) => {
    fs.writeFileSync(file(`a${version}.npy`), npy(descr, [3, 2], data, { version }));
    const r = await importEmbeddings(file(`a${version}.npy`));
    expect(r.table.rows).toBe(3);
    expect(r.table.dim).toBe(2);
    expect(r.table.shared).toBe(true);
    expect(Array.from(r.table.data)).toEqual(values.map(Math.fround));
    expect(r.sourceDtype).toBe(descr);
  });

  it('reads float16 and Fortran order', async () => {
    // 1, -2, 0.5, 65504 as IEEE halves.
    const halves = Buffer.from(Uint16Array.of(0x3c00, 0xc000, 0x3800, 0x7bff).buffer);
    fs.writeFileSync(file('h.npy'), npy('<f2', [2, 2], halves));
    expect(Array.from((await importEmbeddings(file('h.npy'))).table.data)).toEqual([1, -2, 0.5, 65504]);
    // Column-major [[1, 2, 3], [4, 5, 6]] is stored as 1 4 2 5 3 6.
    fs.writeFileSync(file('f.npy'), npy('<f4', [2, 3], f32([1, 4, 2, 5, 3, 6]), { fortran: true }));
    expect(Array.from((await importEmbeddings(file('f.npy'))).table.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects truncated data and unsupported dtypes with codes', async () => {
    fs.writeFileSync(file('t.npy'), npy('<f4', [3, 2], f32([1, 2, 3])));
    await expect(importEmbeddings(file('t.npy'))).rejects.toMatchObject({
      code: 'ERR_CORRUPT_FILE',
      message: expect.stringMatching(/needs 24 bytes but 12 follow/),
    });
    fs.writeFileSync(file('o.npy'), npy('|O', [1], Buffer.alloc(8)));
    await expect(importEmbeddings(file('o.npy'))).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_FORMAT' });
  });

  it('round-trips writeNpy, with an id list alongside', async () => {
    const t = EmbeddingTable.create(4, 3, { init: 'normal', seed: 3 });
    await writeNpy(file('w.npy'), t);
    fs.writeFileSync(file('ids.txt'), 'a\r\nb\r\nc, d\r\né\r\n');
    const r = await importEmbeddings(file('w.npy'), { ids: file('ids.txt') });
    expect(Array.from(r.table.data)).toEqual(Array.from(t.data));
    expect(r.ids!.toArray()).toEqual(['a', 'b', 'c, d', 'é']);
    fs.writeFileSync(file('short.txt'), 'a\nb\n');
    await expect(importEmbeddings(file('w.npy'), { ids: file('short.txt') })).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      message: expect.stringMatching(/options\.ids/),
    });
  });
});

describe('importEmbeddings from .npz', () => {
  const users = [0.5, 1, 2, 4];
  const items = [-1, 1, -3, 3, -5, 5];
  const entries = (deflate: boolean) => [
    { name: 'user_factors.npy', data: npy('<f4', [2, 2], f32(users)), deflate },
    { name: 'item_factors.npy', data: npy('<f4', [3, 2], f32(items)), deflate },
    { name: 'meta.npy', data: npy('<i8', [1], Buffer.alloc(8)), deflate },
  ];

  it.each([
    ['stored', false, false],
    ['deflated', true, false],
    ['deflated zip64', true, true],
  ])('%s entries', async (label, deflate, zip64) => {
    const p = file(`m-${label.replace(' ', '-')}.npz`);
    fs.writeFileSync(p, zip(entries(deflate), zip64));
    const r = await importEmbeddings(p, { tensor: 'item_factors' });
    expect(r.name).toBe('item_factors');
    expect(r.table.rows).toBe(3);
    expect(Array.from(r.table.data)).toEqual(items);
    expect(Array.from((await importEmbeddings(p, { tensor: 'user_factors' })).table.data)).toEqual(users);
  });

  it('asks which array when several fit, and names the choices', async () => {
    fs.writeFileSync(file('two.npz'), zip(entries(true)));
    await expect(importEmbeddings(file('two.npz'))).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      message: expect.stringMatching(/"user_factors", "item_factors", "meta"/),
    });
  });

  it('detects a damaged entry', async () => {
    const bytes = zip(entries(false));
    bytes[200] ^= 1; // inside user_factors' data
    fs.writeFileSync(file('bad.npz'), bytes);
    await expect(importEmbeddings(file('bad.npz'), { tensor: 'item_factors' })).rejects.toMatchObject({
      code: 'ERR_CORRUPT_FILE',
      message: expect.stringMatching(/factors\.npy fails its CRC-32/),
    });
    fs.writeFileSync(file('cut.npz'), zip(entries(true)).subarray(0, 100));
    await expect(importEmbeddings(file('cut.npz'), { format: 'npz' })).rejects.toMatchObject({ code: 'ERR_CORRUPT_FILE' });
  });
});

describe('safetensors interop', () => {
  /** What PyTorch's save_file produces: no metadata, 8-byte aligned header, tensors in name order. */
  function torchFile(tensors: [string, string, number[], Buffer][]): Buffer {
    const header: Record<string, unknown> = {};
    let at = 0;
    for (const [name, dtype, shape, data] of tensors) {
      header[name] = { dtype, shape, data_offsets: [at, at + data.length] };
      at += data.length;
    }
    let json = JSON.stringify(header);
    json = json.padEnd(Math.ceil(json.length / 8) * 8, ' ');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, Buffer.from(json), ...tensors.map((t) => t[3])]);
  }

  it('converts F16, BF16 and F32 tables to float32 exactly', async () => {
    const bf16 = Buffer.from(Uint16Array.of(0x3f80, 0xc040, 0x3e80, 0x0000).buffer); // 1, -3, 0.25, 0
    const f16 = Buffer.from(Uint16Array.of(0x3c00, 0x0001, 0xfc00, 0x3555).buffer); // 1, 2^-24, -Inf, 0.333…
    fs.writeFileSync(
      file('torch.safetensors'),
      torchFile([
        ['a.bf16', 'BF16', [2, 2], bf16],
        ['b.f16', 'F16', [1, 4], f16],
        ['c', 'F32', [2, 1], f32([7, 8])],
      ]),
    );
    expect(Array.from((await importEmbeddings(file('torch.safetensors'), { tensor: 'a.bf16' })).table.data)).toEqual([1, -3, 0.25, 0]);
    const h = (await importEmbeddings(file('torch.safetensors'), { tensor: 'b.f16' })).table;
    expect([h.rows, h.dim]).toEqual([1, 4]);
    expect(Array.from(h.data)).toEqual([1, 2 ** -24, -Infinity, Math.fround((0x155 / 1024) * 0.25 + 0.25)]);
    const c = await readSafetensors(file('torch.safetensors'), { names: ['c'] });
    expect(Array.from(c.tensors.get('c')!.data as Float32Array)).toEqual([7, 8]);
  });

  it('writeSafetensorsFile and readSafetensors round-trip typed arrays and metadata', async () => {
    await writeSafetensorsFile(
      file('rt.safetensors'),
      { w: { data: Float32Array.of(1, 2, 3, 4), shape: [2, 2] }, ids: { data: BigInt64Array.of(5n, -6n), shape: [2] } },
      { note: 'hi' },
    );
    const r = await readSafetensors(file('rt.safetensors'));
    expect(r.metadata.note).toBe('hi');
    expect([...r.tensors.keys()].sort()).toEqual(['ids', 'w']);
    expect(Array.from(r.tensors.get('ids')!.data as BigInt64Array)).toEqual([5n, -6n]);
    const t = await importEmbeddings(file('rt.safetensors'));
    expect(t.name).toBe('w');
  });
});

describe('id lists', () => {
  it('reads one id per line and reports empty or repeated lines with their numbers', async () => {
    fs.writeFileSync(file('ok.txt'), '\ufeffx\ny \nz');
    expect((await readIdList(file('ok.txt'))).toArray()).toEqual(['x', 'y ', 'z']);
    fs.writeFileSync(file('dup.txt'), 'x\ny\nx\n');
    await expect(readIdList(file('dup.txt'))).rejects.toMatchObject({
      code: 'ERR_MALFORMED_DATA',
      message: expect.stringMatching(/dup\.txt:3: id "x" repeats line 1/),
    });
    fs.writeFileSync(file('gap.txt'), 'x\n\ny\n');
    await expect(readIdList(file('gap.txt'))).rejects.toMatchObject({
      code: 'ERR_MALFORMED_DATA',
      message: expect.stringMatching(/gap\.txt:2: empty line/),
    });
    await writeIdList(file('w.txt'), new Vocabulary(['a', 'b']));
    expect(fs.readFileSync(file('w.txt'), 'utf8')).toBe('a\nb\n');
  });
});

describe('exportVectors', () => {
  const t = EmbeddingTable.create(50, 5, { init: 'normal', seed: 8 });
  t.data[0] = 0.1;
  t.data[1] = -0;
  t.data[2] = 3.4028234663852886e38;
  t.data[3] = 1e-45;
  const ids = Array.from({ length: 50 }, (_, i) => (i === 3 ? 'with, "comma"' : `item-${i}`));

  it('JSON Lines: ids and float32-exact shortest numbers', async () => {
    const r = await exportVectors(file('v.jsonl'), t, { ids });
    const lines = fs.readFileSync(file('v.jsonl'), 'utf8').trim().split('\n');
    expect(r.rows).toBe(50);
    expect(lines).toHaveLength(50);
    expect(lines[0]).toMatch(/^\{"id":"item-0","vector":\[0\.1,-0,3\.4028235e\+38,1e-45,/);
    lines.forEach((line, row) => {
      const o = JSON.parse(line) as { id: string; vector: number[] };
      expect(o.id).toBe(ids[row]);
      expect(Float32Array.from(o.vector)).toEqual(t.row(row));
    });
  });

  it('CSV with a header, quoted ids and row numbers when no ids are given', async () => {
    await exportVectors(file('v.csv'), t, { ids: new Vocabulary(ids) });
    const lines = fs.readFileSync(file('v.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,v0,v1,v2,v3,v4');
    expect(lines[4].startsWith('"with, ""comma""",')).toBe(true);
    expect(Float32Array.from(lines[2].split(',').slice(1).map(Number))).toEqual(t.row(1));
    await exportVectors(file('n.jsonl'), t, { vectorField: 'values' });
    expect(fs.readFileSync(file('n.jsonl'), 'utf8').split('\n')[7]).toMatch(/^\{"id":7,"values":\[/);
  });

  it('rejects non-finite values and wrong id counts', async () => {
    const bad = EmbeddingTable.fromRows([[1, NaN]]);
    await expect(exportVectors(file('bad.jsonl'), bad)).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      message: expect.stringMatching(/table row 0/),
    });
    expect(fs.existsSync(file('bad.jsonl'))).toBe(false);
    await expect(exportVectors(file('x.csv'), t, { ids: ['a'] })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });

  it('formatFloat32 gives the shortest round-tripping decimal', () => {
    for (const x of [0.1, 1 / 3, 123456.789, 1e-38, -2.5e-7, 16777217]) {
      const f = Math.fround(x);
      const s = formatFloat32(f);
      expect(Math.fround(Number(s))).toBe(f);
      expect(s.replace(/e.*$/, '').replace(/[-.]/g, '').replace(/^0+/, '').length).toBeLessThanOrEqual(9);
    }
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
  });
});
