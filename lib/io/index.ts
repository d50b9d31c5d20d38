/**
 * Model I/O and interop: the recbridge model file (safetensors), ONNX export and ONNX encoders,
 * importers for numpy / PyTorch embedding tables and id lists, exporters for vector databases.
 */
export { saveModel, type SaveModelOptions, type SaveModelReport } from './model-file/save';
export {
  loadModel,
  inspectModel,
  type InspectModelOptions,
  type LoadModelOptions,
  type LoadedModel,
  type ModelFileInfo,
} from './model-file/load';
export { DEFAULT_FILE_LIMITS, type FileLimits } from './limits';
export { FORMAT_VERSION as MODEL_FORMAT_VERSION } from './model-file/metadata';
export { CorruptFileError, UnsupportedFileError } from './file-errors';
export { importEmbeddings, type ImportEmbeddingsOptions, type ImportedEmbeddings } from './import-embeddings';
export { readIdList, writeIdList, type ReadIdListOptions } from './id-list';
export { exportVectors, formatFloat32, type ExportVectorsOptions } from './export-vectors';
export { readSafetensors, writeSafetensorsFile, type ReadSafetensorsOptions, type SafetensorsTensor } from './safetensors/file';
export { writeNpy } from './numpy/write-npy';
export { ONNX_MAX_WEIGHT_BYTES, exportOnnx, type ExportOnnxOptions } from './onnx/export';
export { buildTowerModel, towerInputs, type TowerSide } from './onnx/tower-model';
export { buildScoringModel, encodeModel, type ScoringModelSpec } from './onnx/model';
export { encodeWithOnnx, type EncodeWithOnnxOptions, type EncoderInput, type EncodedFeatures } from './onnx/encode';
