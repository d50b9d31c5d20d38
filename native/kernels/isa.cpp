// CPU detection (once per process) and the process-wide level choice every kernel family reads.
#include "isa.h"

#include <atomic>
#include <cstdint>
#include <cstring>

#if RB_X86
#include <cpuid.h>
#endif

namespace rb {

namespace {

#if RB_X86
uint64_t read_xcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

// The highest level the CPU and OS support, Avx512x included.
Isa detect_once() {
#if RB_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::Scalar;
  const bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
  if (!osxsave || !avx || !fma) return Isa::Scalar;
  const uint64_t xcr0 = read_xcr0();
  if ((xcr0 & 0x6) != 0x6) return Isa::Scalar;  // XMM and YMM state saved by the OS
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::Scalar;
  const bool avx2 = (b >> 5) & 1;
  if (!avx2) return Isa::Scalar;
  const bool f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
  const bool zmm_state = (xcr0 & 0xE0) == 0xE0;  // opmask, ZMM_Hi256, Hi16_ZMM
  if (!(f && dq && bw && vl && zmm_state)) return Isa::Avx2;
  const bool vnni = (c >> 11) & 1;
  const unsigned max_subleaf = a;
  // AVX512_BF16 is reported in leaf 7 subleaf 1, which older CPUs do not have.
  if (!vnni || max_subleaf < 1 || !__get_cpuid_count(7, 1, &a, &b, &c, &d)) return Isa::Avx512;
  const bool bf16 = (a >> 5) & 1;
  return bf16 ? Isa::Avx512x : Isa::Avx512;
#else
  return Isa::Scalar;
#endif
}

Isa cpu_isa() {
  static const Isa detected = detect_once();
  return detected;
}

std::atomic<int> g_forced{-1};
std::atomic<bool> g_extensions{true};

}  // namespace

Isa detect_isa() { return cpu_isa() == Isa::Avx512x ? Isa::Avx512 : cpu_isa(); }

bool cpu_has_avx512_bf16_vnni() { return cpu_isa() == Isa::Avx512x; }

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512x:
      return "avx512-bf16-vnni";
    case Isa::Avx512:
      return "avx512";
    case Isa::Avx2:
      return "avx2";
    default:
      return "scalar";
  }
}

bool parse_isa(const char* name, Isa* out) {
  if (std::strcmp(name, "scalar") == 0)
    *out = Isa::Scalar;
  else if (std::strcmp(name, "avx2") == 0)
    *out = Isa::Avx2;
  else if (std::strcmp(name, "avx512") == 0)
    *out = Isa::Avx512;
  else
    return false;
  return true;
}

int active_isa() {
  const int forced = g_forced.load(std::memory_order_relaxed);
  return forced >= 0 ? forced : static_cast<int>(detect_isa());
}

bool force_isa(int isa) {
  if (isa < 0 || isa > static_cast<int>(detect_isa())) return false;
  g_forced.store(isa, std::memory_order_relaxed);
  return true;
}

void reset_isa() { g_forced.store(-1, std::memory_order_relaxed); }

void use_isa_extensions(bool on) { g_extensions.store(on, std::memory_order_relaxed); }

Isa kernel_level() {
  const Isa level = static_cast<Isa>(active_isa());
  if (level == Isa::Avx512 && cpu_has_avx512_bf16_vnni() && g_extensions.load(std::memory_order_relaxed))
    return Isa::Avx512x;
  return level;
}

}  // namespace rb
