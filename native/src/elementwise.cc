#include "elementwise.h"

#include <cmath>
#include <vector>

namespace sssseg {
namespace {

// below this many elements the OpenMP fork/join costs more than the second core saves
constexpr int64_t kParallelMin = 1 << 15;

template <typename F>
void rowsLoop(int64_t rows, int64_t width, F f) {
  if (rows * width >= kParallelMin && rows > 1) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) f(r);
  } else {
    for (int64_t r = 0; r < rows; ++r) f(r);
  }
}

template <typename Op>
void binaryWith(Op op, const float* a, int64_t na, const float* b, int64_t nb, float* out, int64_t n) {
  // rows of the broadcast period (the smaller non-scalar operand), or 4096-element chunks
  const int64_t period = (na < n && na > 1) ? na : (nb < n && nb > 1) ? nb : 0;
  const int64_t width = period > 0 ? period : 4096;
  const int64_t rows = (n + width - 1) / width;
  rowsLoop(rows, width, [&](int64_t r) {
    const int64_t start = r * width;
    const int64_t len = start + width <= n ? width : n - start;
    float* o = out + start;
    const float* pa = na == n ? a + start : a;
    const float* pb = nb == n ? b + start : b;
    if (na == 1) {
      const float s = a[0];
      for (int64_t j = 0; j < len; ++j) o[j] = op(s, pb[j]);
    } else if (nb == 1) {
      const float s = b[0];
      for (int64_t j = 0; j < len; ++j) o[j] = op(pa[j], s);
    } else {
      for (int64_t j = 0; j < len; ++j) o[j] = op(pa[j], pb[j]);
    }
  });
}

}  // namespace

void binary(BinaryOp op, const float* a, int64_t na, const float* b, int64_t nb, float* out, int64_t n) {
  switch (op) {
    case BinaryOp::Add:
      return binaryWith([](float x, float y) { return x + y; }, a, na, b, nb, out, n);
    case BinaryOp::Sub:
      return binaryWith([](float x, float y) { return x - y; }, a, na, b, nb, out, n);
    case BinaryOp::Mul:
      return binaryWith([](float x, float y) { return x * y; }, a, na, b, nb, out, n);
  }
}

void batchNorm(const BatchNormArgs& a) {
  // fold into y = x·k + m per channel
  std::vector<float> k(a.c), m(a.c);
  for (int64_t j = 0; j < a.c; ++j) {
    const float scale = a.scale ? a.scale[a.nScale == 1 ? 0 : j] : 1.0f;
    const float offset = a.offset ? a.offset[a.nOffset == 1 ? 0 : j] : 0.0f;
    k[j] = scale / std::sqrt(a.var[a.nVar == 1 ? 0 : j] + a.eps);
    m[j] = offset - a.mean[a.nMean == 1 ? 0 : j] * k[j];
  }
  const float* kp = k.data();
  const float* mp = m.data();
  rowsLoop(a.rows, a.c, [&](int64_t r) {
    const float* x = a.x + r * a.c;
    float* y = a.y + r * a.c;
    for (int64_t j = 0; j < a.c; ++j) y[j] = x[j] * kp[j] + mp[j];
  });
}

}  // namespace sssseg

#include <cstring>
#include <stdexcept>
#include <string>

namespace sssseg {

void gatherRows(const float* x, const int32_t* idx, float* out, int64_t outer, int64_t axisLen, int64_t nIdx,
                int64_t inner) {
  for (int64_t i = 0; i < nIdx; ++i) {
    if (idx[i] < 0 || idx[i] >= axisLen) {
      throw std::out_of_range("GatherV2: index " + std::to_string(idx[i]) + " is not in [0, " +
                              std::to_string(axisLen) + ")");
    }
  }
  const int64_t rows = outer * nIdx;
  const size_t bytes = sizeof(float) * inner;
#pragma omp parallel for schedule(static) if (rows * inner > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = r / nIdx, i = r % nIdx;
    std::memcpy(out + r * inner, x + (o * axisLen + idx[i]) * inner, bytes);
  }
}

}  // namespace sssseg
