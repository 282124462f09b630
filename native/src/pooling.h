#pragma once
#include <cstdint>

namespace sssseg {

/** 2-D max pooling over NHWC; pads are top/left (bottom/right follow from the output size). */
struct PoolShape {
  int64_t n, ih, iw, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
  static constexpr int kFields = 14;
};

/**
 * Gradient of max pooling: each dy goes to the first maximum of its window in row-major order
 * (tfjs's tie rule), accumulated into dx, which this zeroes first.
 */
void maxPoolGrad(const PoolShape& s, const float* x, const float* dy, float* dx);

}  // namespace sssseg
