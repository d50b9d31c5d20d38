/**
 * A small ONNX model builder: describe a graph as plain objects, get the ModelProto bytes that
 * onnxruntime (or any ONNX reader) loads. No onnx or protobuf package is needed at run time.
 *
 * Field numbers follow onnx/onnx.proto3; each message's table below is the only place they appear.
 * Tensors are stored as little-endian `raw_data`, which every reader supports and which lets a large
 * Float32Array go into the file without per-element encoding.
 */
import { types } from 'node:util';

import { rangeError, typeError } from '../../core/validate';
import { ProtoWriter, littleEndianBytes } from './protobuf';

/** IR version 8 (ONNX 1.10+): old enough for every onnxruntime release since 1.10, new enough for opset 17. */
export const DEFAULT_IR_VERSION = 8;
/** Default opset of the standard ("" / ai.onnx) domain. */
export const DEFAULT_OPSET = 17;

/** TensorProto.DataType values for the element types recbridge writes. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
} as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

/** Typed arrays a tensor can be built from; the element type follows from the array unless overridden. */
export type TensorValues = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

/** One dimension of a declared shape: a size, a symbolic name shared across values (e.g. "batch"), or null for unknown. */
export type Dim = number | string | null;

/** A named, typed value: a graph input, output or intermediate. */
export interface ValueInfo {
  name: string;
  elemType: DataType;
  /** Omit for an unknown rank; `[]` declares a scalar. */
  shape?: readonly Dim[];
  docString?: string;
}

/** A constant tensor (graph initializer or tensor attribute). */
export interface Tensor {
  name: string;
  dims: readonly number[];
  /** Row-major values; their count must equal the product of dims. */
  values: TensorValues;
  /** Needed only to store a Uint8Array as BOOL; otherwise inferred from `values`. */
  dataType?: DataType;
  docString?: string;
}

/** A node attribute. The `type` tag is explicit because JavaScript numbers cannot tell int from float. */
export type Attribute =
  | { name: string; type: 'float'; value: number }
  | { name: string; type: 'int'; value: number | bigint }
  | { name: string; type: 'string'; value: string }
  | { name: string; type: 'tensor'; value: Tensor }
  | { name: string; type: 'floats'; value: readonly number[] }
  | { name: string; type: 'ints'; value: readonly (number | bigint)[] }
  | { name: string; type: 'strings'; value: readonly string[] };

/** Shorthands for attributes: `attribute.int('axis', -1)`. */
export const attribute = {
  float: (name: string, value: number): Attribute => ({ name, type: 'float', value }),
  int: (name: string, value: number | bigint): Attribute => ({ name, type: 'int', value }),
  string: (name: string, value: string): Attribute => ({ name, type: 'string', value }),
  tensor: (name: string, value: Tensor): Attribute => ({ name, type: 'tensor', value }),
  floats: (name: string, value: readonly number[]): Attribute => ({ name, type: 'floats', value }),
  ints: (name: string, value: readonly (number | bigint)[]): Attribute => ({ name, type: 'ints', value }),
  strings: (name: string, value: readonly string[]): Attribute => ({ name, type: 'strings', value }),
};

export interface Node {
  opType: string;
  /** Value names; "" marks an omitted optional input. */
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Operator set domain; "" (default) is the standard ai.onnx domain. */
  domain?: string;
  attributes?: readonly Attribute[];
  docString?: string;
}

export interface Graph {
  name: string;
  /** In topological order: every input is a graph input, an initializer or an earlier node's output. */
  nodes: readonly Node[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  initializers?: readonly Tensor[];
  /** Optional type/shape annotations for intermediate values. */
  valueInfo?: readonly ValueInfo[];
  docString?: string;
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface Model {
  graph: Graph;
  /** Default DEFAULT_IR_VERSION (8). */
  irVersion?: number;
  /** Default `[{ domain: '', version: DEFAULT_OPSET }]`. */
  opsetImports?: readonly OpsetImport[];
  /** Default "recbridge". */
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  /** Free-form key/value metadata (ModelProto.metadata_props). */
  metadata?: Readonly<Record<string, string>>;
}

// Field numbers, from onnx.proto3.
const MODEL = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  domain: 4,
  modelVersion: 5,
  docString: 6,
  graph: 7,
  opsetImport: 8,
  metadataProps: 14,
} as const;
const OPSET_ID = { domain: 1, version: 2 } as const;
const STRING_ENTRY = { key: 1, value: 2 } as const;
const GRAPH = { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12, valueInfo: 13 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, docString: 6, domain: 7 } as const;
const ATTRIBUTE = { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, strings: 9, docString: 13, type: 20 } as const;
const VALUE_INFO = { name: 1, type: 2, docString: 3 } as const;
const TYPE = { tensorType: 1 } as const;
const TYPE_TENSOR = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIMENSION = { dimValue: 1, dimParam: 2 } as const;
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9, docString: 12 } as const;

/** AttributeProto.AttributeType. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;

const DATA_TYPES = new Set<number>(Object.values(DataType));

function inferDataType(values: TensorValues): DataType | undefined {
  if (types.isFloat32Array(values)) return DataType.FLOAT;
  if (types.isFloat64Array(values)) return DataType.DOUBLE;
  if (types.isInt32Array(values)) return DataType.INT32;
  if (types.isBigInt64Array(values)) return DataType.INT64;
  if (types.isUint8Array(values)) return DataType.UINT8;
  if (types.isInt8Array(values)) return DataType.INT8;
  return undefined;
}

function expectName(argument: string, value: unknown, allowEmpty = false): string {
  if (typeof value !== 'string') throw typeError(argument, 'string', value);
  if (!allowEmpty && value === '') throw rangeError(argument, 'a non-empty name', value);
  return value;
}

function encodeTensor(tensor: Tensor, at: string): ProtoWriter {
  if (tensor === null || typeof tensor !== 'object') throw typeError(at, 'tensor object', tensor);
  const w = new ProtoWriter();
  const inferred = inferDataType(tensor.values);
  if (inferred === undefined)
    throw typeError(`${at}.values`, 'Float32Array, Float64Array, Int32Array, BigInt64Array, Uint8Array or Int8Array', tensor.values);
  const dataType = tensor.dataType ?? inferred;
  // BOOL shares UINT8's one-byte storage; any other mismatch would reinterpret bytes silently.
  if (dataType !== inferred && !(dataType === DataType.BOOL && inferred === DataType.UINT8)) {
    throw rangeError(`${at}.dataType`, `the data type of ${at}.values (${inferred})`, dataType);
  }
  if (!Array.isArray(tensor.dims)) throw typeError(`${at}.dims`, 'array of integers', tensor.dims);
  let count = 1;
  tensor.dims.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0) throw rangeError(`${at}.dims[${i}]`, 'non-negative integer', d);
    count *= d;
  });
  if (count !== tensor.values.length) throw rangeError(`${at}.values`, `${count} values (the product of dims)`, tensor.values);
  w.packedInts(TENSOR.dims, tensor.dims);
  w.int(TENSOR.dataType, dataType);
  w.string(TENSOR.name, expectName(`${at}.name`, tensor.name, true));
  if (tensor.docString) w.string(TENSOR.docString, tensor.docString);
  w.bytes(TENSOR.rawData, littleEndianBytes(tensor.values));
  return w;
}

function encodeValueInfo(info: ValueInfo, at: string): ProtoWriter {
  if (info === null || typeof info !== 'object') throw typeError(at, 'value info object', info);
  if (!DATA_TYPES.has(info.elemType)) throw rangeError(`${at}.elemType`, 'a DataType value', info.elemType);
  const tensorType = new ProtoWriter().int(TYPE_TENSOR.elemType, info.elemType);
  if (info.shape !== undefined) {
    if (!Array.isArray(info.shape)) throw typeError(`${at}.shape`, 'array of dims', info.shape);
    const shape = new ProtoWriter();
    info.shape.forEach((d: Dim, i) => {
      const dim = new ProtoWriter();
      if (typeof d === 'number') {
        if (!Number.isSafeInteger(d) || d < 0) throw rangeError(`${at}.shape[${i}]`, 'non-negative integer, symbolic name or null', d);
        dim.int(DIMENSION.dimValue, d);
      } else if (typeof d === 'string') {
        dim.string(DIMENSION.dimParam, expectName(`${at}.shape[${i}]`, d));
      } else if (d !== null) {
        throw typeError(`${at}.shape[${i}]`, 'non-negative integer, symbolic name or null', d);
      }
      shape.message(SHAPE.dim, dim);
    });
    tensorType.message(TYPE_TENSOR.shape, shape);
  }
  const w = new ProtoWriter().string(VALUE_INFO.name, expectName(`${at}.name`, info.name));
  w.message(VALUE_INFO.type, new ProtoWriter().message(TYPE.tensorType, tensorType));
  if (info.docString) w.string(VALUE_INFO.docString, info.docString);
  return w;
}

function encodeAttribute(attr: Attribute, at: string): ProtoWriter {
  if (attr === null || typeof attr !== 'object') throw typeError(at, 'attribute object', attr);
  const w = new ProtoWriter().string(ATTRIBUTE.name, expectName(`${at}.name`, attr.name));
  switch (attr.type) {
    case 'float':
      w.float(ATTRIBUTE.f, attr.value);
      break;
    case 'int':
      w.int(ATTRIBUTE.i, attr.value);
      break;
    case 'string':
      w.string(ATTRIBUTE.s, attr.value);
      break;
    case 'tensor':
      w.message(ATTRIBUTE.t, encodeTensor(attr.value, `${at}.value`));
      break;
    case 'floats':
      w.packedFloats(ATTRIBUTE.floats, attr.value);
      break;
    case 'ints':
      w.packedInts(ATTRIBUTE.ints, attr.value);
      break;
    case 'strings':
      for (const s of attr.value) w.string(ATTRIBUTE.strings, s);
      break;
    default:
      throw rangeError(`${at}.type`, 'float, int, string, tensor, floats, ints or strings', (attr as { type: unknown }).type);
  }
  // Readers since IR 2 dispatch on `type` rather than on which value field is present.
  w.int(ATTRIBUTE.type, ATTRIBUTE_TYPE[attr.type]);
  return w;
}

function encodeNode(node: Node, at: string): ProtoWriter {
  if (node === null || typeof node !== 'object') throw typeError(at, 'node object', node);
  const w = new ProtoWriter();
  node.inputs.forEach((name, i) => w.string(NODE.input, expectName(`${at}.inputs[${i}]`, name, true)));
  node.outputs.forEach((name, i) => w.string(NODE.output, expectName(`${at}.outputs[${i}]`, name)));
  if (node.name) w.string(NODE.name, node.name);
  w.string(NODE.opType, expectName(`${at}.opType`, node.opType));
  node.attributes?.forEach((a, i) => w.message(NODE.attribute, encodeAttribute(a, `${at}.attributes[${i}]`)));
  if (node.docString) w.string(NODE.docString, node.docString);
  if (node.domain) w.string(NODE.domain, node.domain);
  return w;
}

/**
 * Catches wiring mistakes here, with the offending argument named, instead of as an opaque load
 * failure inside the runtime.
 */
function checkGraphWiring(graph: Graph): void {
  const known = new Set<string>();
  const define = (name: string, at: string) => {
    if (known.has(name)) throw rangeError(at, 'a name not already defined in the graph', name);
    known.add(name);
  };
  graph.inputs.forEach((v, i) => define(expectName(`model.graph.inputs[${i}].name`, v?.name), `model.graph.inputs[${i}].name`));
  (graph.initializers ?? []).forEach((t, i) => {
    const name = expectName(`model.graph.initializers[${i}].name`, t?.name);
    // An initializer may share its name with a graph input: it is then the input's default value.
    if (!graph.inputs.some((v) => v.name === name)) define(name, `model.graph.initializers[${i}].name`);
  });
  graph.nodes.forEach((node, n) => {
    if (node === null || typeof node !== 'object') throw typeError(`model.graph.nodes[${n}]`, 'node object', node);
    if (!Array.isArray(node.inputs)) throw typeError(`model.graph.nodes[${n}].inputs`, 'array of value names', node.inputs);
    if (!Array.isArray(node.outputs)) throw typeError(`model.graph.nodes[${n}].outputs`, 'array of value names', node.outputs);
    node.inputs.forEach((name, i) => {
      if (name !== '' && !known.has(name)) {
        throw rangeError(`model.graph.nodes[${n}].inputs[${i}]`, 'a graph input, initializer or earlier node output', name);
      }
    });
    node.outputs.forEach((name, i) => define(name, `model.graph.nodes[${n}].outputs[${i}]`));
  });
  graph.outputs.forEach((v, i) => {
    if (!known.has(expectName(`model.graph.outputs[${i}].name`, v?.name)))
      throw rangeError(`model.graph.outputs[${i}].name`, 'a value produced by the graph', v.name);
  });
}

function encodeGraph(graph: Graph): ProtoWriter {
  if (graph === null || typeof graph !== 'object') throw typeError('model.graph', 'graph object', graph);
  for (const key of ['nodes', 'inputs', 'outputs'] as const) {
    if (!Array.isArray(graph[key])) throw typeError(`model.graph.${key}`, 'array', graph[key]);
  }
  checkGraphWiring(graph);
  const w = new ProtoWriter();
  graph.nodes.forEach((node, i) => w.message(GRAPH.node, encodeNode(node, `model.graph.nodes[${i}]`)));
  w.string(GRAPH.name, expectName('model.graph.name', graph.name));
  (graph.initializers ?? []).forEach((t, i) => w.message(GRAPH.initializer, encodeTensor(t, `model.graph.initializers[${i}]`)));
  if (graph.docString) w.string(GRAPH.docString, graph.docString);
  graph.inputs.forEach((v, i) => w.message(GRAPH.input, encodeValueInfo(v, `model.graph.inputs[${i}]`)));
  graph.outputs.forEach((v, i) => w.message(GRAPH.output, encodeValueInfo(v, `model.graph.outputs[${i}]`)));
  (graph.valueInfo ?? []).forEach((v, i) => w.message(GRAPH.valueInfo, encodeValueInfo(v, `model.graph.valueInfo[${i}]`)));
  return w;
}

/** Serializes a model to ONNX (ModelProto) bytes. Tensor values are copied into the result. */
export function encodeModel(model: Model): Uint8Array {
  if (model === null || typeof model !== 'object') throw typeError('model', 'model object', model);
  const w = new ProtoWriter();
  w.int(MODEL.irVersion, model.irVersion ?? DEFAULT_IR_VERSION);
  for (const opset of model.opsetImports ?? [{ domain: '', version: DEFAULT_OPSET }]) {
    if (!Number.isSafeInteger(opset.version) || opset.version < 1)
      throw rangeError('model.opsetImports[].version', 'positive integer', opset.version);
    w.message(
      MODEL.opsetImport,
      new ProtoWriter()
        .string(OPSET_ID.domain, expectName('model.opsetImports[].domain', opset.domain, true))
        .int(OPSET_ID.version, opset.version),
    );
  }
  w.string(MODEL.producerName, model.producerName ?? 'recbridge');
  if (model.producerVersion) w.string(MODEL.producerVersion, model.producerVersion);
  if (model.domain) w.string(MODEL.domain, model.domain);
  if (model.modelVersion !== undefined) w.int(MODEL.modelVersion, model.modelVersion);
  if (model.docString) w.string(MODEL.docString, model.docString);
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    if (typeof value !== 'string') throw typeError(`model.metadata.${key}`, 'string', value);
    w.message(MODEL.metadataProps, new ProtoWriter().string(STRING_ENTRY.key, key).string(STRING_ENTRY.value, value));
  }
  w.message(MODEL.graph, encodeGraph(model.graph));
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Scoring model: the exact dot-product top-K that recbridge's topK computes, as an ONNX graph.

export interface ScoringModelSpec {
  /** Row-major rows × dim item embeddings (e.g. EmbeddingTable.data). */
  items: Float32Array;
  rows: number;
  dim: number;
  /** Results per query; clamped to rows because ONNX TopK rejects K larger than the axis. */
  k: number;
  /** Name or size of the batch dimension of `query`. Default "batch" (any number of queries). */
  batch?: string | number;
}

/** items (rows × dim) → itemsT (dim × rows), tiled so both sides stay in cache for large tables. */
export function transpose(items: Float32Array, rows: number, dim: number): Float32Array {
  const out = new Float32Array(items.length);
  const tile = 256;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = Math.min(rows, r0 + tile);
    for (let c = 0; c < dim; c++) {
      const base = c * rows;
      for (let r = r0; r < r1; r++) out[base + r] = items[r * dim + c];
    }
  }
  return out;
}

/**
 * A model with input `query` float [batch, dim] and outputs `values` float [batch, K] and
 * `indices` int64 [batch, K]: MatMul(query, itemsᵀ) then TopK (largest, sorted; ONNX breaks ties by
 * the lower index, as recbridge does), K = min(k, rows). The items are stored transposed so MatMul
 * needs no Transpose node at run time.
 */
export function buildScoringModel(spec: ScoringModelSpec): Uint8Array {
  if (spec === null || typeof spec !== 'object') throw typeError('spec', 'scoring model spec', spec);
  const { items, rows, dim, k } = spec;
  if (!types.isFloat32Array(items)) throw typeError('spec.items', 'Float32Array', items);
  for (const [name, value] of [
    ['spec.rows', rows],
    ['spec.dim', dim],
    ['spec.k', k],
  ] as const) {
    if (typeof value !== 'number') throw typeError(name, 'positive integer', value);
    if (!Number.isSafeInteger(value) || value < 1) throw rangeError(name, 'positive integer', value);
  }
  if (items.length !== rows * dim) throw rangeError('spec.items', `a Float32Array of length rows × dim (${rows * dim})`, items);
  const batch = spec.batch ?? 'batch';
  const kEff = Math.min(k, rows);
  return encodeModel({
    docString: `Exact top-${kEff} by dot product over ${rows} items of dimension ${dim}.`,
    graph: {
      name: 'recbridge_scoring',
      inputs: [{ name: 'query', elemType: DataType.FLOAT, shape: [batch, dim] }],
      outputs: [
        { name: 'values', elemType: DataType.FLOAT, shape: [batch, kEff] },
        { name: 'indices', elemType: DataType.INT64, shape: [batch, kEff] },
      ],
      initializers: [
        { name: 'itemsT', dims: [dim, rows], values: transpose(items, rows, dim) },
        { name: 'K', dims: [1], values: BigInt64Array.of(BigInt(kEff)) },
      ],
      valueInfo: [{ name: 'scores', elemType: DataType.FLOAT, shape: [batch, rows] }],
      nodes: [
        { opType: 'MatMul', name: 'score', inputs: ['query', 'itemsT'], outputs: ['scores'] },
        {
          opType: 'TopK',
          name: 'top_k',
          inputs: ['scores', 'K'],
          outputs: ['values', 'indices'],
          attributes: [attribute.int('axis', -1), attribute.int('largest', 1), attribute.int('sorted', 1)],
        },
      ],
    },
  });
}
