#include "batchnorm.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

namespace sssseg {
namespace {

// below this many elements the OpenMP fork/join costs more than the second core saves
constexpr int64_t kParallelMin = 1 << 15;
// rows summed in float (vectorised) before they are added to the double totals
constexpr int64_t kBlock = 32;

int threadsFor(int64_t n) { return n >= kParallelMin ? omp_get_max_threads() : 1; }

/**
 * Per-channel totals s1[j] = Σ_rows u, s2[j] = Σ_rows v, where rowFn(r, u, v) adds row r's
 * contributions into the float buffers u, v (c each). Each thread sums its share of the rows in
 * blocks of kBlock in float and keeps double totals; the threads' totals are added at the end.
 */
template <typename RowFn>
void channelSums(int64_t rows, int64_t c, double* s1, double* s2, RowFn rowFn) {
  const int threads = threadsFor(rows * c);
  std::vector<double> acc(static_cast<size_t>(2 * c * threads), 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    double* a1 = acc.data() + 2 * c * t;
    double* a2 = a1 + c;
    std::vector<float> u(c), v(c);
    const int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    for (int64_t r = r0; r < r1; r += kBlock) {
      std::fill(u.begin(), u.end(), 0.0f);
      std::fill(v.begin(), v.end(), 0.0f);
      const int64_t end = std::min(r + kBlock, r1);
      for (int64_t i = r; i < end; ++i) rowFn(i, u.data(), v.data());
      for (int64_t j = 0; j < c; ++j) a1[j] += u[j], a2[j] += v[j];
    }
  }
  for (int64_t j = 0; j < c; ++j) {
    double t1 = 0, t2 = 0;
    for (int t = 0; t < threads; ++t) t1 += acc[2 * c * t + j], t2 += acc[2 * c * t + c + j];
    s1[j] = t1, s2[j] = t2;
  }
}

template <typename F>
void rows(int64_t n, int64_t c, F f) {
#pragma omp parallel for schedule(static) num_threads(threadsFor(n * c))
  for (int64_t r = 0; r < n; ++r) f(r);
}

}  // namespace

void bnTrainForward(const BnTrainArgs& a) {
  const int64_t c = a.c;
  std::vector<double> s1(c), s2(c);
  // shifted by the first row, so that E[x²] − E[x]² does not cancel when |mean| ≫ std
  const float* shift = a.x;
  channelSums(a.rows, c, s1.data(), s2.data(), [&](int64_t r, float* u, float* v) {
    const float* x = a.x + r * c;
    for (int64_t j = 0; j < c; ++j) {
      const float d = x[j] - shift[j];
      u[j] += d, v[j] += d * d;
    }
  });
  std::vector<float> k(c), m(c);
  const double count = static_cast<double>(a.rows);
  for (int64_t j = 0; j < c; ++j) {
    const double dm = s1[j] / count;
    const double var = std::max(0.0, s2[j] / count - dm * dm);
    a.mean[j] = static_cast<float>(shift[j] + dm);
    a.var[j] = static_cast<float>(var);
    k[j] = static_cast<float>(a.gamma[j] / std::sqrt(var + a.eps));
    m[j] = a.beta[j] - a.mean[j] * k[j];
  }
  const float* kp = k.data();
  const float* mp = m.data();
  // one loop per variant, so that each vectorises without branches
  const auto apply = [&](auto relu, auto withRes) {
    rows(a.rows, c, [&](int64_t r) {
      const float* __restrict x = a.x + r * c;
      float* __restrict y = a.y + r * c;
      const float* __restrict res = withRes ? a.residual + r * c : nullptr;
      for (int64_t j = 0; j < c; ++j) {
        float v = x[j] * kp[j] + mp[j];
        if constexpr (withRes) v += res[j];
        if constexpr (relu) v = v > 0.0f ? v : 0.0f;
        y[j] = v;
      }
    });
  };
  if (a.relu) {
    a.residual ? apply(std::true_type{}, std::true_type{}) : apply(std::true_type{}, std::false_type{});
  } else {
    a.residual ? apply(std::false_type{}, std::true_type{}) : apply(std::false_type{}, std::false_type{});
  }
}

void bnTrainBackward(const BnTrainGradArgs& a) {
  const int64_t c = a.c;
  std::vector<double> sg(c), sgx(c);
  const std::vector<float> mean(a.mean, a.mean + c);
  const float* mu = mean.data();
  // g = dy masked by the ReLU (y > 0); sums of g and g·(x − μ)
  const auto sums = [&](auto relu) {
    channelSums(a.rows, c, sg.data(), sgx.data(), [&](int64_t r, float* __restrict u, float* __restrict v) {
      const float* __restrict dy = a.dy + r * c;
      const float* __restrict x = a.x + r * c;
      const float* __restrict y = relu ? a.y + r * c : nullptr;
      for (int64_t j = 0; j < c; ++j) {
        float g = dy[j];
        if constexpr (relu) g = y[j] > 0.0f ? g : 0.0f;
        u[j] += g, v[j] += g * (x[j] - mu[j]);
      }
    });
  };
  a.y ? sums(std::true_type{}) : sums(std::false_type{});
  std::vector<float> A(c), B(c), C(c);
  const double count = static_cast<double>(a.rows);
  for (int64_t j = 0; j < c; ++j) {
    const double r = 1.0 / std::sqrt(static_cast<double>(a.var[j]) + a.eps);
    const double dGamma = r * sgx[j];
    a.dgamma[j] = static_cast<float>(dGamma);
    a.dbeta[j] = static_cast<float>(sg[j]);
    const double gr = a.gamma[j] * r;
    A[j] = static_cast<float>(gr);
    B[j] = static_cast<float>(-gr * r * dGamma / count);
    C[j] = static_cast<float>(-gr * sg[j] / count);
  }
  const float *Ap = A.data(), *Bp = B.data(), *Cp = C.data();
  const auto apply = [&](auto relu, auto withRes) {
    rows(a.rows, c, [&](int64_t r) {
      const float* __restrict dy = a.dy + r * c;
      const float* __restrict x = a.x + r * c;
      const float* __restrict y = relu ? a.y + r * c : nullptr;
      float* __restrict dx = a.dx + r * c;
      float* __restrict dres = withRes ? a.dres + r * c : nullptr;
      for (int64_t j = 0; j < c; ++j) {
        float g = dy[j];
        if constexpr (relu) g = y[j] > 0.0f ? g : 0.0f;
        dx[j] = Ap[j] * g + Bp[j] * (x[j] - mu[j]) + Cp[j];
        if constexpr (withRes) dres[j] = g;
      }
    });
  };
  if (a.y) {
    a.dres ? apply(std::true_type{}, std::true_type{}) : apply(std::true_type{}, std::false_type{});
  } else {
    a.dres ? apply(std::false_type{}, std::true_type{}) : apply(std::false_type{}, std::false_type{});
  }
}

void axpby(const float* a, float alpha, const float* b, float beta, float* out, int64_t n) {
#pragma omp parallel for schedule(static) num_threads(threadsFor(n))
  for (int64_t i = 0; i < n; ++i) out[i] = alpha * a[i] + beta * b[i];
}

void sgdStep(const float* p, const float* g, const float* m, float lr, float mu, float wd, float* pOut, float* mOut, int64_t n) {
#pragma omp parallel for schedule(static) num_threads(threadsFor(n))
  for (int64_t i = 0; i < n; ++i) {
    const float buf = mu * m[i] + (g[i] + wd * p[i]);
    mOut[i] = buf;
    pOut[i] = p[i] - lr * buf;
  }
}

}  // namespace sssseg
