// Shared oneDNN state of the native backend's kernels.
#pragma once
#include <dnnl.hpp>

#include <string>

namespace sssseg {

dnnl::engine& eng();
dnnl::stream& strm();
/** Records the implementation name of the primitive about to run (see lastImpl()). */
void setLastImpl(const std::string& impl);

/**
 * Reusable 4 KiB-aligned buffers for operands in a kernel's preferred layout or precision, by
 * slot (kernel calls are sequential, so a slot is free again once a call returns).
 */
float* scratch(int slot, size_t bytes);
constexpr int kScratchSlots = 8;

/** Compute precision of a conv or matrix product (the `prec` shape field). */
enum class Precision : int64_t {
  F32 = 0,
  /** bf16 operands, fp32 accumulation and output, on oneDNN's bf16 kernels */
  BF16 = 1,
  /** the same numerics on any CPU: operands rounded to bf16, then fp32 kernels (tests only) */
  BF16_EMULATED = 2,
};

/** out[i] = x[i] rounded to the nearest bf16 (ties to even), kept as float. */
void roundToBf16(const float* x, float* out, int64_t n);

/** Whether oneDNN runs bf16 convolutions natively here (ISA avx512_core_bf16 or avx512_core_amx). */
bool bf16Supported();

}  // namespace sssseg
