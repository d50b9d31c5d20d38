/**
 * Checks a recbridge model header before any tensor is read: the format version first (so a newer
 * file gets a clear message), then every metadata field and the exact set of tensors.
 */
import { CorruptFileError, UnsupportedFileError } from '../file-errors';
import { type JsonBounds, type JsonLimitNames, parseBoundedJson } from '../json-scan';
import { DEFAULT_FILE_LIMITS, type ResolvedFileLimits } from '../limits';
import { PADDING_PREFIX, type SafetensorsHeader, type TensorEntry } from '../safetensors/format';
import { CHECKSUMS_KEY } from '../safetensors/write';
import { HEADER_CRC_KEY } from '../safetensors/header-checksum';
import {
  FORMAT_VERSION,
  KEY,
  MODEL_KINDS,
  OPTIMIZER_KINDS,
  bagTensors,
  denseTensor,
  frozenTensor,
  optimizerTensor,
  type ModelKind,
  type ParameterRecord,
  type TowerConfig,
  type VocabularyRecord,
} from './metadata';

export interface ModelHeader {
  header: SafetensorsHeader;
  formatVersion: number;
  kind: ModelKind;
  config: Record<string, unknown>;
  parameters: Record<string, ParameterRecord>;
  epochsTrained: number;
  vocabularies: { users?: VocabularyRecord; items?: VocabularyRecord };
  provenance: unknown;
  savedBy: unknown;
  checksums: Record<string, string>;
  /** Tensors by name. */
  tensors: Map<string, TensorEntry>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The bounds of the JSON in metadata values: most are small records, bounded by maxJsonValues;
 * vocabularies hold one id per row, and every row of a table takes at least 4 bytes of the file.
 */
function metadataBounds(key: string, header: SafetensorsHeader, limits: ResolvedFileLimits): { bounds: JsonBounds; names: JsonLimitNames } {
  const names: JsonLimitNames = { what: key, depth: 'maxJsonDepth', values: 'maxJsonValues' };
  if (key !== KEY.vocabularies) return { bounds: { maxDepth: limits.maxJsonDepth, maxValues: limits.maxJsonValues }, names };
  const dataBytes = header.fileSize - header.dataStart;
  return { bounds: { maxDepth: limits.maxJsonDepth, maxValues: Math.max(limits.maxJsonValues, Math.floor(dataBytes / 4) + 16) }, names };
}

export function readModelHeader(header: SafetensorsHeader, limits: ResolvedFileLimits = DEFAULT_FILE_LIMITS): ModelHeader {
  const { path } = header;
  const corrupt = (detail: string) => new CorruptFileError(path, detail);
  const meta = header.metadata;
  if (!meta || meta[KEY.version] === undefined) {
    throw new UnsupportedFileError(
      'ERR_UNSUPPORTED_FORMAT',
      path,
      `${path} is a safetensors file but not a recbridge model (its metadata has no ${KEY.version}); read its tensors with importEmbeddings() or readSafetensors()`,
    );
  }
  const versionText = meta[KEY.version];
  if (!/^[1-9][0-9]{0,8}$/.test(versionText)) throw corrupt(`${KEY.version} is ${JSON.stringify(versionText)}, not a positive integer`);
  const formatVersion = Number(versionText);
  if (formatVersion > FORMAT_VERSION) {
    throw new UnsupportedFileError(
      'ERR_UNSUPPORTED_VERSION',
      path,
      `${path} was written in recbridge model format ${formatVersion}, newer than this release reads (format ${FORMAT_VERSION} and older): upgrade recbridge to load it`,
    );
  }
  if (meta[HEADER_CRC_KEY] === undefined) throw corrupt(`the metadata has no header checksum (${HEADER_CRC_KEY})`);
  const json = (key: string): unknown => {
    const text = meta[key];
    if (text === undefined) throw corrupt(`the metadata has no ${key}`);
    const { bounds, names } = metadataBounds(key, header, limits);
    return parseBoundedJson(text, path, path, bounds, names);
  };
  const kind = meta[KEY.kind] as ModelKind;
  if (!MODEL_KINDS.includes(kind)) {
    throw new UnsupportedFileError(
      'ERR_UNSUPPORTED_FORMAT',
      path,
      `${path} holds a model of kind ${JSON.stringify(kind)}, which this release cannot load (known: ${MODEL_KINDS.join(', ')})`,
    );
  }
  const config = json(KEY.config);
  if (!isObject(config)) throw corrupt(`${KEY.config} is not an object`);
  const parameters = json(KEY.parameters);
  if (!isObject(parameters)) throw corrupt(`${KEY.parameters} is not an object`);
  for (const [name, r] of Object.entries(parameters)) {
    if (
      !isObject(r) ||
      typeof r.trainable !== 'boolean' ||
      typeof r.lrMultiplier !== 'number' ||
      !(r.lrMultiplier >= 0) ||
      typeof r.frozenRows !== 'boolean' ||
      !(r.optimizer === null || OPTIMIZER_KINDS.includes(r.optimizer as never))
    ) {
      throw corrupt(`${KEY.parameters} has an invalid record for ${JSON.stringify(name)}`);
    }
  }
  const epochsText = meta[KEY.epochs];
  if (epochsText === undefined || !/^(0|[1-9][0-9]{0,14})$/.test(epochsText))
    throw corrupt(`${KEY.epochs} is ${JSON.stringify(epochsText)}, not a non-negative integer`);
  const vocabularies = meta[KEY.vocabularies] === undefined ? {} : json(KEY.vocabularies);
  if (!isObject(vocabularies)) throw corrupt(`${KEY.vocabularies} is not an object`);
  for (const [side, ids] of Object.entries(vocabularies)) {
    const inline = Array.isArray(ids) && ids.every((id) => typeof id === 'string');
    const stored = isObject(ids) && typeof ids.tensor === 'string' && Number.isSafeInteger(ids.count);
    if ((side !== 'users' && side !== 'items') || !(inline || stored))
      throw corrupt(`${KEY.vocabularies}.${side} is neither a list of string ids nor { tensor, count }`);
  }
  const checksums = json(CHECKSUMS_KEY);
  if (!isObject(checksums) || !Object.values(checksums).every((c) => typeof c === 'string' && /^[0-9a-f]{8}$/.test(c))) {
    throw corrupt(`${CHECKSUMS_KEY} is not a map of 8-digit hex checksums`);
  }

  // The exact tensor set the records imply (shapes are checked when the model adopts them).
  const tensors = new Map(header.tensors.map((t) => [t.name, t]));
  const expected = new Map<string, string>();
  const p = parameters as Record<string, ParameterRecord>;
  for (const [name, r] of Object.entries(p)) {
    expected.set(name, 'F32');
    if (r.frozenRows) expected.set(frozenTensor(name), 'U8');
    if (r.optimizer) expected.set(optimizerTensor(name), 'F32');
  }
  for (const v of Object.values(vocabularies)) if (!Array.isArray(v)) expected.set((v as { tensor: string }).tensor, 'U8');
  if (kind === 'two-tower') {
    for (const side of ['user', 'item'] as const) {
      const t = config[side] as TowerConfig | undefined;
      if (!isObject(t)) throw corrupt(`${KEY.config}.${side} is not an object`);
      if (t.features) for (const n of Object.values(bagTensors(side))) expected.set(n, 'I32');
      if (t.dense) expected.set(denseTensor(side), 'F32');
    }
  }
  for (const [name, dtype] of expected) {
    const t = tensors.get(name);
    if (!t) throw corrupt(`tensor ${JSON.stringify(name)} is missing`);
    if (t.dtype !== dtype) throw corrupt(`tensor ${JSON.stringify(name)} has dtype ${t.dtype}, expected ${dtype}`);
    const rank = p[name] ? 2 : name.startsWith('inputs.') && name.endsWith('.values') ? 2 : 1;
    if (t.shape.length !== rank)
      throw corrupt(`tensor ${JSON.stringify(name)} has shape ${JSON.stringify(t.shape)}, expected rank ${rank}`);
  }
  for (const t of header.tensors) {
    if (!expected.has(t.name) && !(t.name.startsWith(PADDING_PREFIX) && t.dtype === 'U8'))
      throw corrupt(`unexpected tensor ${JSON.stringify(t.name)}`);
    if (checksums[t.name] === undefined) throw corrupt(`tensor ${JSON.stringify(t.name)} has no checksum in ${CHECKSUMS_KEY}`);
  }
  let provenance: unknown = null;
  let savedBy: unknown = null;
  if (meta[KEY.provenance] !== undefined) provenance = json(KEY.provenance);
  if (meta[KEY.savedBy] !== undefined) savedBy = json(KEY.savedBy);
  return {
    header,
    formatVersion,
    kind,
    config,
    parameters: p,
    epochsTrained: Number(epochsText),
    vocabularies: vocabularies as ModelHeader['vocabularies'],
    provenance,
    savedBy,
    checksums: checksums as Record<string, string>,
    tensors,
  };
}
