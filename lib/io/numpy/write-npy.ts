/** An EmbeddingTable as a .npy file (float32, C order) that numpy.load reads; written atomically. */
import { EmbeddingTable } from '../../core/table';
import { typeError } from '../../core/validate';
import { writeFileAtomic } from '../../core/atomic-write';
import { encodeNpy } from './npy';

export async function writeNpy(path: string, table: EmbeddingTable): Promise<number> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  if (!(table instanceof EmbeddingTable)) throw typeError('table', 'EmbeddingTable', table);
  table.checkAttached();
  const header = encodeNpy(new Float32Array(0), [table.rows, table.dim]);
  return writeFileAtomic(path, async (sink) => {
    await sink.write(header);
    await sink.write(new Uint8Array(table.data.buffer, table.data.byteOffset, table.data.byteLength));
  });
}
