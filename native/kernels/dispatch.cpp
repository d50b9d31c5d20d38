#include <atomic>
#include <cstring>

#include "isa.h"
#include "kernel_table.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define RB_X86 1
#endif

namespace rb {

namespace {

#ifdef RB_X86
uint64_t read_xcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

Isa detect_once() {
#ifdef RB_X86
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
  if (f && dq && bw && vl && zmm_state) return Isa::Avx512;
  return Isa::Avx2;
#else
  return Isa::Scalar;
#endif
}

const KernelTable& table_for(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return kernels_avx512();
    case Isa::Avx2: return kernels_avx2();
    default: return kernels_scalar();
  }
}

std::atomic<int> g_forced{-1};

}  // namespace

Isa detect_isa() {
  static const Isa detected = detect_once();
  return detected;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "scalar";
  }
}

bool parse_isa(const char* name, Isa* out) {
  if (std::strcmp(name, "scalar") == 0) *out = Isa::Scalar;
  else if (std::strcmp(name, "avx2") == 0) *out = Isa::Avx2;
  else if (std::strcmp(name, "avx512") == 0) *out = Isa::Avx512;
  else return false;
  return true;
}

int active_isa() {
  const int forced = g_forced.load(std::memory_order_relaxed);
  return forced >= 0 ? forced : static_cast<int>(detect_isa());
}

const KernelTable& active_kernels() { return table_for(static_cast<Isa>(active_isa())); }

bool force_isa(int isa) {
  if (isa < 0 || isa > static_cast<int>(detect_isa())) return false;
  g_forced.store(isa, std::memory_order_relaxed);
  return true;
}

void reset_isa() { g_forced.store(-1, std::memory_order_relaxed); }

}  // namespace rb
