// The one dispatch rule of isa.h: every kernel family follows force_isa, reset_isa and the extension
// switch together, and a level a family has no table for runs the level below it.
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>

#include "../kernels/dense.h"
#include "../kernels/graph.h"
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
  check_name("graph", rb::active_graph_kernels().name, rb::isa_name(plain));
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

namespace {

using Fields = std::initializer_list<std::pair<const char*, const void*>>;
#define RB_FIELD(table, field) \
  { #field, reinterpret_cast < const void*>(table.field) }

void check_fields(const char* level, Fields fields) {
  for (const auto& [name, ptr] : fields)
    record(ptr != nullptr, __FILE__, __LINE__, std::string(level) + ": " + name + " is not set");
}

void check_kernel_table(const char* level, const rb::KernelTable& t) {
  check_fields(level, {RB_FIELD(t, score_rows), RB_FIELD(t, score_indexed), RB_FIELD(t, score_tile),
                       RB_FIELD(t, candidates), RB_FIELD(t, tile_candidates), RB_FIELD(t, axpy), RB_FIELD(t, scale),
                       RB_FIELD(t, dot), RB_FIELD(t, dot_diff), RB_FIELD(t, sgd_triple), RB_FIELD(t, adagrad_triple),
                       RB_FIELD(t, rowwise_adagrad_triple), RB_FIELD(t, sgd_pair), RB_FIELD(t, adagrad_pair),
                       RB_FIELD(t, rowwise_adagrad_pair), RB_FIELD(t, adam_triple), RB_FIELD(t, adam_pair)});
  record(t.name != nullptr && t.query_block > 0, __FILE__, __LINE__, std::string(level) + ": name and query_block");
}

void check_dense(const char* level, const rb::DenseKernels& t) {
  check_fields(level,
               {RB_FIELD(t, panel_gemm), RB_FIELD(t, exp_shift_sum), RB_FIELD(t, logits_row), RB_FIELD(t, scale)});
}

void check_quant(const char* level, const rb::QuantKernels& t) {
  check_fields(level, {RB_FIELD(t, score_bf16), RB_FIELD(t, score_i8)});
}

}  // namespace

// A field a level's table leaves unset is a null pointer that crashes only on CPUs at that level.
TEST_CASE("isa: every level's table sets every kernel") {
  check_kernel_table("scalar", rb::kernels_scalar());
  check_dense("dense scalar", rb::dense_kernels_scalar());
  check_quant("quantized scalar", rb::quant_kernels_scalar());
#if RB_X86
  const rb::Isa cpu = rb::detect_isa();
  if (cpu >= rb::Isa::Avx2) {
    check_kernel_table("avx2", rb::kernels_avx2());
    check_dense("dense avx2", rb::dense_kernels_avx2());
    check_quant("quantized avx2", rb::quant_kernels_avx2());
  }
  if (cpu >= rb::Isa::Avx512) {
    check_kernel_table("avx512", rb::kernels_avx512());
    check_dense("dense avx512", rb::dense_kernels_avx512());
    check_quant("quantized avx512", rb::quant_kernels_avx512());
  }
  if (rb::cpu_has_avx512_bf16_vnni()) check_quant("quantized avx512x", rb::quant_kernels_avx512x());
#endif
}
