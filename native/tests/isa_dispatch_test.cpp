// The one dispatch rule of isa.h: every kernel family follows force_isa, reset_isa and the extension
// switch together, and a level a family has no table for runs the level below it.
#include <cstring>
#include <string>

#include "../kernels/dense.h"
#include "../kernels/isa.h"
#include "../kernels/kernel_table.h"
#include "../kernels/quantized.h"
#include "check.h"
#include "support.h"

using namespace rbtest;

namespace {

void check_name(const char* family, const char* got, const char* want) {
  record(std::strcmp(got, want) == 0, __FILE__, __LINE__, std::string(family) + " runs " + got + ", expected " + want);
}

// Each family's active table is named after the level it was picked for: `plain` for the families
// without Avx512x kernels, `quantized` for the quantized kernels.
void check_families(rb::Isa plain, rb::Isa quantized) {
  check_name("scoring/training", rb::active_kernels().name, rb::isa_name(plain));
  check_name("dense", rb::active_dense_kernels().name, rb::isa_name(plain));
  check_name("quantized", rb::active_quant_kernels().name, rb::isa_name(quantized));
}

struct FakeTable {
  const char* name;
};
const FakeTable kFakeScalar{"scalar"}, kFakeAvx512{"avx512"};
const FakeTable& fake_scalar() { return kFakeScalar; }
const FakeTable& fake_avx512() { return kFakeAvx512; }

}  // namespace

TEST_CASE("isa: force_isa, reset_isa and the extension switch move every kernel family together") {
  const bool cpu_ext = rb::cpu_has_avx512_bf16_vnni();
  for (bool ext : {false, true}) {
    rb::use_isa_extensions(ext);
    for (int isa : runnable_isas()) {
      CHECK(rb::force_isa(isa));
      CHECK_EQ(rb::active_isa(), isa);
      const rb::Isa level = static_cast<rb::Isa>(isa);
      const rb::Isa top = ext && cpu_ext && level == rb::Isa::Avx512 ? rb::Isa::Avx512x : level;
      CHECK(rb::kernel_level() == top);
      check_families(level, top);
    }
    rb::reset_isa();
    CHECK_EQ(rb::active_isa(), static_cast<int>(rb::detect_isa()));
    check_families(rb::detect_isa(), ext && cpu_ext ? rb::Isa::Avx512x : rb::detect_isa());
  }
  rb::use_isa_extensions(true);
}

TEST_CASE("isa: only Scalar..Avx512 can be forced or named; Avx512x comes with Avx512") {
  const rb::Isa detected = rb::detect_isa();
  CHECK(static_cast<int>(detected) <= static_cast<int>(rb::Isa::Avx512));
  if (rb::cpu_has_avx512_bf16_vnni()) CHECK(detected == rb::Isa::Avx512);
  CHECK(!rb::force_isa(static_cast<int>(rb::Isa::Avx512x)));
  CHECK(!rb::force_isa(static_cast<int>(detected) + 1));
  for (int isa = 0; isa <= static_cast<int>(rb::Isa::Avx512); ++isa) {
    rb::Isa parsed;
    CHECK(rb::parse_isa(rb::isa_name(static_cast<rb::Isa>(isa)), &parsed) && parsed == static_cast<rb::Isa>(isa));
  }
  rb::Isa parsed;
  CHECK(!rb::parse_isa(rb::isa_name(rb::Isa::Avx512x), &parsed));
  CHECK(!rb::parse_isa("neon", &parsed));
  rb::reset_isa();
}

TEST_CASE("isa: a level without a table of its own runs the highest level below it") {
  const rb::IsaTables<FakeTable> tables{{fake_scalar, nullptr, fake_avx512}};
  check_name("scalar level", tables.at(rb::Isa::Scalar).name, "scalar");
  check_name("avx2 level", tables.at(rb::Isa::Avx2).name, "scalar");
  check_name("avx512 level", tables.at(rb::Isa::Avx512).name, "avx512");
  check_name("avx512x level", tables.at(rb::Isa::Avx512x).name, "avx512");
}
