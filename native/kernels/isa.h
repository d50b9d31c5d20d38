// Instruction-set levels, detected once, and the one rule by which every kernel family (scoring and
// training in kernel_table.h, dense layers in dense.h, quantized scoring in quantized.h) picks its
// per-level table, so force_isa and the extension switch move all families together.
//
// A family lists one table getter per level in an IsaTables; each getter lives in the translation
// unit compiled with that level's flags (native/isa-flags.json), and isa.cpp's CPU detection is the
// only thing that decides whether such code may run. The IsaTables and the family's active_*()
// belong in a file built with the baseline flags: instantiated in a per-level file, that inline
// code could be the copy the linker keeps for every caller.
#pragma once

#if defined(__x86_64__) || defined(_M_X64)
#define RB_X86 1
// A per-level getter that exists only in x86 builds (the per-ISA files are not compiled elsewhere).
#define RB_X86_ONLY(getter) getter
#else
#define RB_X86 0
#define RB_X86_ONLY(getter) nullptr
#endif

namespace rb {

// Ordered: each level implies every level below it. Avx512x is AVX-512 plus the BF16 (vdpbf16ps) and
// VNNI (vpdpbusd) extensions. It cannot be forced: the Avx512 level runs it whenever the CPU has it
// and extensions are on, so forcing "avx512" keeps the fastest kernels a family has for that CPU.
enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2, Avx512x = 3 };
constexpr int kIsaLevels = 4;

// Highest level force_isa accepts on this CPU and OS (CPUID feature bits plus XGETBV register-state
// checks); never Avx512x.
Isa detect_isa();
// Whether the CPU also has the Avx512x extensions.
bool cpu_has_avx512_bf16_vnni();
const char* isa_name(Isa isa);
// Parses "scalar" | "avx2" | "avx512"; returns false for anything else.
bool parse_isa(const char* name, Isa* out);

// Forces a level (tests, benchmarks, RECBRIDGE_ISA). Returns false if the CPU cannot run it.
// Process-wide: it applies to every thread and every worker that shares this addon.
bool force_isa(int isa);
void reset_isa();
// The forced level, else detect_isa(): what capabilities() reports (never Avx512x).
int active_isa();
// false keeps the Avx512 level on the plain AVX-512 tables, so tests reach both kinds of kernel on a
// CPU with the extensions (default true). Process-wide; reset_isa leaves it alone.
void use_isa_extensions(bool on);
// The level kernel tables are picked at: active_isa(), raised to Avx512x when that is Avx512, the CPU
// has the extensions and they are on.
Isa kernel_level();

// One family's tables, indexed by level. A level without a getter (null, or left out at the end)
// runs the highest level below it that has one, so a family needs tables only for the levels where
// its code differs; Scalar must always have one.
template <class Table>
struct IsaTables {
  const Table& (*by_level[kIsaLevels])();

  const Table& at(Isa level) const {
    int i = static_cast<int>(level);
    while (i > 0 && by_level[i] == nullptr) --i;
    return by_level[i]();
  }
  const Table& active() const { return at(kernel_level()); }
};

}  // namespace rb
