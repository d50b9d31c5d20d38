/**
 * `recbridge inspect <model.safetensors> [--json]`: what a model file holds (kind, config,
 * parameters with their flags, vocabulary sizes, provenance, tensors), read from the header alone,
 * so it is instant even for multi-gigabyte files. A damaged file is reported with its problem.
 */
import { inspectModel, loadModel } from '../io/model-file/load';
import type { Args, CommandSpec } from './args';
import { requireFiles } from './input';

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

async function run(args: Args): Promise<number> {
  const json = args.bool('json');
  const verify = args.bool('verify');
  const file = args.positional(0, 'a model file: recbridge inspect FILE');
  requireFiles(args, { FILE: file });
  let info: Awaited<ReturnType<typeof inspectModel>>;
  let verified: { bytesRead: number; seconds: number } | null = null;
  try {
    info = await inspectModel(file);
    if (verify) {
      // A full load checks the header's and every tensor's checksum, optimizer state included.
      const started = Date.now();
      const loaded = await loadModel(file);
      verified = { bytesRead: loaded.bytesRead, seconds: (Date.now() - started) / 1000 };
    }
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code && /^ERR_(CORRUPT_FILE|UNSUPPORTED_)/.test(e.code)) {
      console.error(`recbridge inspect: [${e.code}] ${e.message}`);
      return 1;
    }
    throw err;
  }
  if (json) {
    console.log(JSON.stringify(verify ? { ...info, verified: verified !== null } : info, null, 2));
    return 0;
  }
  const lines = [
    `${info.path}: recbridge ${info.kind} model, format ${info.formatVersion}, ${mib(info.fileSize)}`,
    `config: ${JSON.stringify(info.config)}`,
    `epochs trained: ${info.epochsTrained}`,
    `vocabularies: ${
      Object.entries(info.vocabularySizes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
    'parameters:',
    ...Object.entries(info.parameters).map(([name, p]) => {
      const t = info.tensors.find((x) => x.name === name);
      const flags = [
        p.trainable ? 'trainable' : 'frozen',
        p.lrMultiplier !== 1 ? `lr × ${p.lrMultiplier}` : '',
        p.frozenRows ? 'some rows frozen' : '',
        p.optimizer ? `${p.optimizer} state` : '',
      ].filter(Boolean);
      return `  ${name} [${t?.shape.join(' × ')}] ${flags.join(', ')}`;
    }),
  ];
  if (info.provenance !== null) lines.push(`provenance: ${JSON.stringify(info.provenance)}`);
  if (verified) lines.push(`verified: every checksum matches (${mib(verified.bytesRead)} read in ${verified.seconds.toFixed(2)} s)`);
  console.log(lines.join('\n'));
  return 0;
}

export const inspect: CommandSpec = {
  name: 'inspect',
  summary: 'what a model file holds (from its header); --verify checks every checksum',
  positionals: ['FILE'],
  flags: {
    json: { type: 'boolean', help: 'print the summary as JSON' },
    verify: { type: 'boolean', help: 'read the whole file and check every checksum (exit 1 when damaged)' },
  },
  notes: 'Without --verify only the header is read (instant for any size) and its checksum checked.',
  run,
};
