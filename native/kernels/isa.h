// Instruction-set levels recbridge has kernels for, and the one-time CPU detection that picks one.
#pragma once

namespace rb {

enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// Highest level this CPU and OS can run (CPUID feature bits plus XGETBV register-state checks).
Isa detect_isa();
const char* isa_name(Isa isa);
// Parses "scalar" | "avx2" | "avx512"; returns false for anything else.
bool parse_isa(const char* name, Isa* out);

}  // namespace rb
