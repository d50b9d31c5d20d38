/**
 * Compressed sparse rows: row r's entries are indices[offsets[r] … offsets[r+1]). The one shape in
 * which recbridge passes per-row lists (user histories, exclusions, feature bags) between modules
 * and to the addon.
 */
export interface Csr {
  offsets: Int32Array;
  indices: Int32Array;
}

/** Csr with an optional weight per entry. */
export interface WeightedCsr extends Csr {
  weights?: Float32Array;
}
