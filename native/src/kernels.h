// oneDNN kernels of the sssseg native backend. All tensors are float32 and live in memory owned
// by the caller (the tfjs wasm heap): activations NHWC, conv filters HWIO, matrices row-major.
// Convolutions and matrix products take a compute precision (f32, or bf16 with f32 accumulation).
#pragma once
#include <cstdint>
#include <string>

namespace sssseg {

/**
 * One 2-D convolution; pads are top/left/bottom/right, dilations are 1 for a plain conv; prec is
 * a Precision (onednn.h): bf16 reads the operands in bf16 and still writes f32.
 */
struct ConvShape {
  int64_t n, ih, iw, ic, oc, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr, prec;
  static constexpr int kFields = 18;
  std::string key() const;
};

void convForward(const ConvShape& s, const float* x, const float* w, float* y);
void convBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx);
void convBackwardWeights(const ConvShape& s, const float* x, const float* dy, float* dw);

/** C[b] = op(A[b]) op(B[b]); a batch of 1 on either side broadcasts; prec as ConvShape's. */
struct MatMulShape {
  int64_t batchA, batchB, m, k, n, transA, transB, prec;
  static constexpr int kFields = 8;
  std::string key() const;
};

void matMul(const MatMulShape& s, const float* a, const float* b, float* c);

/** ISA name, oneDNN version and thread count, for `sssseg info`. */
std::string describe();
/** Implementation names chosen for the last primitive of each kind (for tests and profiling). */
std::string lastImpl();

}  // namespace sssseg
