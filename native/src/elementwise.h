// Memory-bound kernels of the native backend, on both cores (OpenMP) where the tensor is large.
#pragma once
#include <cstdint>

namespace sssseg {

enum class BinaryOp { Add = 0, Sub = 1, Mul = 2 };

/**
 * out[i] = a[i] op b[i] over n elements, where an operand of fewer elements (na or nb < n) is a
 * trailing-dims broadcast: it repeats every na (nb) elements; 1 is a scalar.
 */
void binary(BinaryOp op, const float* a, int64_t na, const float* b, int64_t nb, float* out, int64_t n);

/**
 * Inference-form batch norm over rows of c channels: y = (x − mean)·scale/√(var + eps) + offset.
 * Each per-channel operand has c or 1 elements (counts given); offset/scale may be null.
 */
struct BatchNormArgs {
  const float *x, *mean, *var, *offset, *scale;
  int64_t nMean, nVar, nOffset, nScale;
  int64_t rows, c;
  float eps;
  float* y;
};
void batchNorm(const BatchNormArgs& a);

}  // namespace sssseg

namespace sssseg {

/**
 * out[o, i, :] = x[o, idx[i], :] for x viewed as [outer, axisLen, inner] (tfjs GatherV2 with
 * batchDims 0); throws std::out_of_range for an index outside [0, axisLen).
 */
void gatherRows(const float* x, const int32_t* idx, float* out, int64_t outer, int64_t axisLen, int64_t nIdx,
                int64_t inner);

}  // namespace sssseg
