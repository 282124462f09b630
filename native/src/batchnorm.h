// Training-mode batch norm over rows of c channels (an NHWC tensor viewed as [rows, c]) as two
// fused passes each way, on both cores, optionally followed by a residual add and a ReLU:
//   forward   y = act(γ·(x − μ)·r + β [+ residual]),  r = 1/√(σ² + ε), μ, σ² batch statistics
//   backward  g = dy·[y > 0] (ReLU) or dy;  dγ = r·(Σ g·x − μ·Σ g),  dβ = Σ g,
//             dx = γr·g − γr²·dγ/M·(x − μ) − γr·Σg/M,  d residual = g
#pragma once
#include <cstdint>

namespace sssseg {

struct BnTrainArgs {
  const float *x, *gamma, *beta;
  /** null: no residual add */
  const float* residual;
  int64_t rows, c;
  float eps;
  bool relu;
  /** y [rows, c]; mean and biased variance [c] */
  float *y, *mean, *var;
};
void bnTrainForward(const BnTrainArgs& a);

struct BnTrainGradArgs {
  const float *dy, *x, *gamma, *mean, *var;
  /** the forward output, read for the ReLU mask; null without ReLU */
  const float* y;
  int64_t rows, c;
  float eps;
  float *dx, *dgamma, *dbeta;
  /** gradient of the residual input (g); null when there was none */
  float* dres;
};
void bnTrainBackward(const BnTrainGradArgs& a);

/** out = α·a + β·b over n elements (EMA, running statistics). */
void axpby(const float* a, float alpha, const float* b, float beta, float* out, int64_t n);

/** PyTorch SGD: d = g + wd·p; m' = μ·m + d; p' = p − lr·m'. */
void sgdStep(const float* p, const float* g, const float* m, float lr, float mu, float wd, float* pOut, float* mOut, int64_t n);

}  // namespace sssseg
