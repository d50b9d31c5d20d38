'use strict';
// Records computed from other records of the same run, after all children have finished.

/**
 * For each topk-single bandwidth record with a scan-bandwidth probe of the same rows, dim and
 * threads: the fraction of the probe's achieved GB/s that top-k reaches. The probe is measured in
 * this run on this machine, so no bandwidth figure is assumed.
 */
function bandwidthFractions(records) {
  const probes = records.filter((r) => r.name === 'scan-bandwidth/score-items');
  const out = [];
  for (const r of records) {
    if (r.name !== 'topk-single/bandwidth') continue;
    const p = probes.find((x) => x.params.rows === r.params.rows && x.params.dim === r.params.dim && x.params.threads === r.params.threads);
    if (!p) continue;
    out.push({
      name: 'topk-single/bandwidth-fraction',
      value: r.value / p.value,
      unit: 'fraction',
      params: { ...r.params, probe: 'scan-bandwidth/score-items', probeGBs: p.value },
    });
  }
  return out;
}

module.exports = { bandwidthFractions };
