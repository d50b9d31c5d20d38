// A table under training, as every native training loop sees it. Freezing is data: frozen rows, a
// zero lr_mult or a non-trainable parameter (lr_mult 0) mean the row and its optimizer state are
// never written.
#pragma once
#include <cstddef>
#include <cstdint>

#include "constants.h"

namespace rb {

struct TrainParam {
  float* w = nullptr;  // rows x dim
  size_t rows = 0, dim = 0;
  // optimizer_state_floats(kind, rows, dim) floats in that function's layout; SGD: null.
  float* state = nullptr;
  const uint8_t* frozen_rows = nullptr;  // rows flags (non-zero = frozen), or null
  float lr_mult = 1.f;                   // 0 when the parameter is not trainable
};

}  // namespace rb
