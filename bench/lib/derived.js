'use strict';
// Records computed from other records of the same run, after all children have finished.

/**
 * For each single-threaded topk-single bandwidth record: the fraction of the machine's memory-read
 * ceiling it reaches, where the ceiling is kernel_bench's streaming-sum probe over a buffer of the
 * same size (rows × dim floats), measured in this run. No bandwidth figure is assumed.
 */
function bandwidthFractions(records) {
  const probes = records.filter((r) => r.name === 'kernel/memory-read');
  const out = [];
  for (const r of records) {
    if (r.name !== 'topk-single/bandwidth' || r.params.threads !== 1) continue;
    const p = probes.find((x) => x.params.rows === r.params.rows && x.params.dim === r.params.dim);
    if (!p) continue;
    out.push({
      name: 'topk-single/fraction-of-memory-read',
      value: r.value / p.value,
      unit: 'fraction',
      params: { ...r.params, probe: 'kernel/memory-read', probeGBs: p.value },
    });
  }
  return out;
}

module.exports = { bandwidthFractions };
