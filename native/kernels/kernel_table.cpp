// The scoring and training family's tables by ISA level. Compiled with the baseline flags, like every
// caller of active_kernels(): the per-level files only define their own table.
#include "kernel_table.h"

namespace rb {

const KernelTable& active_kernels() {
  static constexpr IsaTables<KernelTable> tables{
      {kernels_scalar, RB_X86_ONLY(kernels_avx2), RB_X86_ONLY(kernels_avx512)}};
  return tables.active();
}

}  // namespace rb
