#include "pooling.h"

#include <cstring>
#include <limits>

namespace sssseg {

void maxPoolGrad(const PoolShape& s, const float* x, const float* dy, float* dx) {
  const int64_t image = s.ih * s.iw * s.c;
  // images are independent (windows never cross them), so they split across threads safely
#pragma omp parallel for schedule(static) if (s.n > 1 && s.n * image > (1 << 15))
  for (int64_t b = 0; b < s.n; ++b) {
    const float* xb = x + b * image;
    float* dxb = dx + b * image;
    std::memset(dxb, 0, sizeof(float) * image);
    const float* dyb = dy + b * s.oh * s.ow * s.c;
    for (int64_t oy = 0; oy < s.oh; ++oy) {
      for (int64_t ox = 0; ox < s.ow; ++ox) {
        const float* g = dyb + (oy * s.ow + ox) * s.c;
        for (int64_t ch = 0; ch < s.c; ++ch) {
          float best = -std::numeric_limits<float>::infinity();
          int64_t at = -1;
          for (int64_t ky = 0; ky < s.kh; ++ky) {
            const int64_t iy = oy * s.sh - s.pt + ky * s.dh;
            if (iy < 0 || iy >= s.ih) continue;
            for (int64_t kx = 0; kx < s.kw; ++kx) {
              const int64_t ix = ox * s.sw - s.pl + kx * s.dw;
              if (ix < 0 || ix >= s.iw) continue;
              const int64_t i = (iy * s.iw + ix) * s.c + ch;
              if (xb[i] > best) best = xb[i], at = i;
            }
          }
          if (at >= 0) dxb[at] += g[ch];
        }
      }
    }
  }
}

}  // namespace sssseg
