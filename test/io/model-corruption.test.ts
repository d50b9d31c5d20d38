// Every way a model file can be damaged must end in a typed error naming the problem, never in a
// crash or a silently different model. Errors are matched on name/code (jest's sandbox breaks
// instanceof across realms).
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';

import { Vocabulary, inspectModel, loadModel, saveModel } from '../../lib';
import { inspectModelBytes, loadModelBytes } from '../../lib/io/model-file/load';
import { modelToTensors } from '../../lib/io/model-file/model-tensors';
import { writeSafetensors } from '../../lib/io/safetensors/write';
import { mfWithState, snapshot, tempDir, towerWithState } from './helpers';

const dir = tempDir();
let good: Buffer;
let goodFile: string;

beforeAll(async () => {
  goodFile = path.join(dir, 'good.safetensors');
  await saveModel(goodFile, mfWithState(true));
  good = fs.readFileSync(goodFile);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let serial = 0;
function variant(bytes: Uint8Array): string {
  const file = path.join(dir, `v${serial++}.safetensors`);
  fs.writeFileSync(file, bytes);
  return file;
}

function headerEnd(): number {
  return 8 + Number(good.readBigUInt64LE(0));
}

type Failure = { name: string; code: string; message: string; detail: string };

/** Also checks that the in-memory loader (what the fuzz target runs) fails the same way. */
async function expectCorrupt(bytes: Uint8Array, detail: RegExp): Promise<void> {
  const file = variant(bytes);
  const err = await loadModel(file).then(
    () => null,
    (e: unknown) => e as Failure,
  );
  expect(err).not.toBeNull();
  expect(err!.code).toBe('ERR_CORRUPT_FILE');
  expect(err!.name).toBe('CorruptFileError');
  expect(err!.detail).toMatch(detail);
  let fromBytes: Failure | null = null;
  try {
    loadModelBytes(bytes, file);
  } catch (e) {
    fromBytes = e as Failure;
  }
  expect(fromBytes && { name: fromBytes.name, code: fromBytes.code, message: fromBytes.message }).toEqual({
    name: err!.name,
    code: err!.code,
    message: err!.message,
  });
}

describe('loadModelBytes: the same loader on bytes in memory', () => {
  it('gives the model, vocabularies and bytesRead that loadModel gives, for a full and a serving load', async () => {
    for (const [name, model] of [
      ['mf', mfWithState(true)],
      ['tower', towerWithState()],
    ] as const) {
      const file = path.join(dir, `twin-${name}.safetensors`);
      await saveModel(
        file,
        model,
        name === 'mf' ? { vocabularies: { users: new Vocabulary(Array.from({ length: model.users }, (_, u) => `u${u}`)) } } : undefined,
      );
      // An odd offset into a larger buffer: the loader must copy to aligned memory itself.
      const bytes = new Uint8Array(fs.statSync(file).size + 3).subarray(3);
      bytes.set(fs.readFileSync(file));
      for (const forServing of [false, true]) {
        const a = await loadModel(file, { forServing });
        const b = loadModelBytes(bytes, file, { forServing });
        expect(snapshot(b.model, !forServing)).toEqual(snapshot(a.model, !forServing));
        expect([b.kind, b.bytesRead, b.optimizerState, b.formatVersion, b.vocabularies.users?.toArray()]).toEqual([
          a.kind,
          a.bytesRead,
          a.optimizerState,
          a.formatVersion,
          a.vocabularies.users?.toArray(),
        ]);
        expect(Object.prototype.toString.call(b.model.parameters()[0].table.data.buffer)).toBe('[object SharedArrayBuffer]');
      }
      expect(inspectModelBytes(bytes, file)).toEqual(await inspectModel(file));
    }
  });
});

describe('loadModel rejects damaged files', () => {
  it('truncated anywhere', async () => {
    await expectCorrupt(good.subarray(0, 0), /fewer than the 8-byte header length/);
    await expectCorrupt(good.subarray(0, 5), /fewer than the 8-byte/);
    await expectCorrupt(good.subarray(0, 100), /header claims \d+ bytes but the file holds only 92/);
    await expectCorrupt(good.subarray(0, headerEnd()), /ends at byte \d+ of the data but the file holds only 0/);
    await expectCorrupt(good.subarray(0, good.length - 1), /truncated/);
  });

  it('a flipped bit in the data fails that tensor’s checksum', async () => {
    const bytes = Buffer.from(good);
    bytes[headerEnd() + 10] ^= 0x04; // inside user.embedding, the first tensor
    await expectCorrupt(bytes, /tensor "user\.embedding" fails its checksum/);
    const last = Buffer.from(good);
    last[last.length - 3] ^= 0x80;
    await expectCorrupt(last, /fails its checksum/);
  });

  it('checksums tensors that span several read chunks', async () => {
    const { MatrixFactorization } = await import('../../lib');
    const m = new MatrixFactorization({ users: 1000, items: 40_000, dim: 64 }); // item table: 10 MB
    const file = path.join(dir, 'chunks.safetensors');
    await saveModel(file, m, { optimizerState: false });
    expect((await loadModel(file)).model.items).toBe(40_000);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1_000_000] ^= 0x10; // inside item.embedding, in the second 8 MiB chunk
    await expectCorrupt(bytes, /tensor "item\.embedding" fails its checksum/);
  });

  it('a flipped bit in the header fails the header checksum', async () => {
    const bytes = Buffer.from(good);
    const at = bytes.indexOf('\\"dim\\":12');
    expect(at).toBeGreaterThan(0);
    bytes[at + 9] ^= 0x02; // 12 → 10: still valid JSON, a plausible but wrong model
    await expectCorrupt(bytes, /header fails its checksum/);
    const pad = Buffer.from(good);
    pad[headerEnd() - 1] = 0x09; // a tab instead of a padding space: valid JSON whitespace
    await expectCorrupt(pad, /header fails its checksum/);
  });

  it('an oversized or inconsistent header length', async () => {
    const huge = Buffer.from(good);
    huge.writeBigUInt64LE(2n ** 40n, 0);
    await expectCorrupt(huge, /header claims 1099511627776 bytes but the file holds only/);
    const past = Buffer.from(good);
    past.writeBigUInt64LE(BigInt(good.length), 0);
    await expectCorrupt(past, /header claims/);
    const tiny = Buffer.from(good);
    tiny.writeBigUInt64LE(1n, 0);
    await expectCorrupt(tiny, /too small/);
  });

  it('trailing bytes and overlapping tensors', async () => {
    await expectCorrupt(Buffer.concat([good, Buffer.alloc(64)]), /trailing bytes/);
    const { tensors, metadata } = modelToTensors(mfWithState(false), false);
    const file = path.join(dir, 'overlap.safetensors');
    await writeSafetensors(file, tensors, metadata);
    const text = fs.readFileSync(file);
    const n = Number(text.readBigUInt64LE(0));
    const header = JSON.parse(text.subarray(8, 8 + n).toString());
    // Point item.embedding at the user table's bytes; rebuild the header checksum so only the
    // overlap is wrong (a buggy writer, not a damaged disk).
    header['item.embedding'].data_offsets = [0, header['item.embedding'].data_offsets[1] - header['item.embedding'].data_offsets[0]];
    const rebuilt = await rewriteHeader(text, header);
    await expectCorrupt(rebuilt, /overlap/);
  });

  it('a file from a newer format version gets a clear message', async () => {
    const { tensors, metadata } = modelToTensors(mfWithState(false), false);
    const file = path.join(dir, 'v2.safetensors');
    await writeSafetensors(file, tensors, { ...metadata, 'recbridge.format_version': '2' });
    await expect(loadModel(file)).rejects.toMatchObject({
      name: 'UnsupportedFileError',
      code: 'ERR_UNSUPPORTED_VERSION',
      message: expect.stringMatching(/format 2, newer than this release reads \(format 1 and older\): upgrade recbridge/),
    });
  });

  it('a plain safetensors file is not a model', async () => {
    const file = path.join(dir, 'plain.safetensors');
    await writeSafetensors(file, [{ name: 'w', dtype: 'F32', shape: [2], bytes: new Uint8Array(8) }]);
    await expect(loadModel(file)).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_FORMAT',
      message: expect.stringMatching(/not a recbridge model.*importEmbeddings/),
    });
  });

  it('missing or mis-shaped tensors with a valid header checksum', async () => {
    const { tensors, metadata } = modelToTensors(towerWithState(), true);
    const file = path.join(dir, 'missing.safetensors');
    await writeSafetensors(
      file,
      tensors.filter((t) => t.name !== 'item.mlp.0.bias'),
      metadata,
    );
    await expectCorrupt(fs.readFileSync(file), /tensor "item\.mlp\.0\.bias" is missing/);
    const reshaped = tensors.map((t) => (t.name === 'user.embedding' ? { ...t, shape: [t.shape[1], t.shape[0]] } : t));
    await writeSafetensors(file, reshaped, metadata);
    await expectCorrupt(fs.readFileSync(file), /do not describe a valid two-tower model.*25 × 8 table for tables\["user\.embedding"\]/);
  });

  it('fuzz: random corruptions are always rejected as corrupt', async () => {
    const corruption = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
      fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 100 }) }),
      fc.record({ kind: fc.constant('header' as const), at: fc.integer({ min: 0, max: 7 }), value: fc.integer({ min: 0, max: 255 }) }),
    );
    await fc.assert(
      fc.asyncProperty(corruption, async (c) => {
        let bytes: Buffer;
        switch (c.kind) {
          case 'flip':
            bytes = Buffer.from(good);
            bytes[c.at % bytes.length] ^= 1 << c.bit;
            break;
          case 'truncate':
            bytes = good.subarray(0, c.at % good.length);
            break;
          case 'overwrite': {
            bytes = Buffer.from(good);
            const at = c.at % bytes.length;
            bytes.set(c.bytes.subarray(0, bytes.length - at), at);
            break;
          }
          case 'append':
            bytes = Buffer.concat([good, c.bytes]);
            break;
          case 'header':
            bytes = Buffer.from(good);
            bytes[c.at] = c.value;
            break;
        }
        if (bytes.equals(good)) return;
        const err = await loadModel(variant(bytes)).then(
          () => null,
          (e: { code?: string }) => e,
        );
        expect(err?.code).toBe('ERR_CORRUPT_FILE');
      }),
      { numRuns: 200, seed: 20240611 },
    );
  });
});

/** The same data with a new header (checksum recomputed the documented way). */
async function rewriteHeader(file: Buffer, header: Record<string, unknown>): Promise<Buffer> {
  const { computeHeaderCrc, headerCrcPosition } = await import('../../lib/io/safetensors/header-checksum');
  const n = Number(file.readBigUInt64LE(0));
  (header.__metadata__ as Record<string, string>)['recbridge.header_crc32'] = '00000000';
  const json = Buffer.from(JSON.stringify(header).padEnd(n, ' '));
  expect(json.length).toBe(n);
  const pos = headerCrcPosition(json);
  json.write(computeHeaderCrc(json, pos), pos, 'latin1');
  return Buffer.concat([file.subarray(0, 8), json, file.subarray(8 + n)]);
}
