// The top-K kernel's candidate rules from a binding's checked lists, shared by the float32 and the
// quantized single-query bindings.
#pragma once
#include "../kernels/scoring.h"
#include "args.h"

namespace rbnapi {

inline rb::TopKOptions topk_options(size_t k, bool has_allow, const IndexList& allow, const IndexList& block,
                                    size_t threads) {
  rb::TopKOptions opt;
  opt.k = k;
  if (has_allow) {
    opt.has_allow = true;
    opt.allow = allow.data;
    opt.allow_len = allow.size;
  }
  opt.block = block.data;
  opt.block_len = block.size;
  opt.threads = threads;
  return opt;
}

}  // namespace rbnapi
