/**
 * `recbridge inspect <model.safetensors> [--json]`: what a model file holds (kind, config,
 * parameters with their flags, vocabulary sizes, provenance, tensors), read from the header alone,
 * so it is instant even for multi-gigabyte files. A damaged file is reported with its problem.
 */
import { inspectModel } from '../io/model-file/load';
import { UsageError, boolFlag, noMoreArgs, type Command } from './args';

const USAGE = '  inspect FILE [--json]                               summarise a saved model file (header only)';

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

async function run(args: string[]): Promise<number> {
  const json = boolFlag(args, 'json');
  const file = args.shift();
  if (file === undefined || file.startsWith('--')) throw new UsageError('Expected a model file for inspect');
  noMoreArgs(args);
  let info: Awaited<ReturnType<typeof inspectModel>>;
  try {
    info = await inspectModel(file);
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code && /^ERR_(CORRUPT_FILE|UNSUPPORTED_)/.test(e.code)) {
      console.error(`recbridge: ${e.message} (${e.code})`);
      return 1;
    }
    throw err;
  }
  if (json) {
    console.log(JSON.stringify(info, null, 2));
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
  console.log(lines.join('\n'));
  return 0;
}

export const inspect: Command = { usage: USAGE, run };
