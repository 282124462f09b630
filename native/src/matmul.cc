// BatchMatMul on oneDNN's matmul primitive, cached by shape.
#include <memory>
#include <string>
#include <unordered_map>

#include "kernels.h"
#include "onednn.h"

namespace sssseg {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {
float* mut(const float* p) { return const_cast<float*>(p); }
}  // namespace

void matMul(const MatMulShape& s, const float* a, const float* b, float* c) {
  struct Entry {
    dnnl::matmul prim;
    memory::desc a, b, c;
    std::string impl;
  };
  static std::unordered_map<std::string, std::unique_ptr<Entry>> cache;
  const std::string key = s.key();
  auto it = cache.find(key);
  if (it == cache.end()) {
    auto e = std::make_unique<Entry>();
    const int64_t batch = s.batchA > s.batchB ? s.batchA : s.batchB;
    // a transposed operand is the same row-major buffer read with swapped strides
    e->a = memory::desc({s.batchA, s.m, s.k}, dt::f32,
                        s.transA ? memory::dims{s.m * s.k, 1, s.m} : memory::dims{s.m * s.k, s.k, 1});
    e->b = memory::desc({s.batchB, s.k, s.n}, dt::f32,
                        s.transB ? memory::dims{s.k * s.n, 1, s.k} : memory::dims{s.k * s.n, s.n, 1});
    e->c = memory::desc({batch, s.m, s.n}, dt::f32, tag::abc);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(e->a, e->b, e->c), eng());
    e->prim = dnnl::matmul(pd);
    e->impl = pd.impl_info_str();
    it = cache.emplace(key, std::move(e)).first;
  }
  Entry& e = *it->second;
  setLastImpl(e.impl);
  memory ma(e.a, eng(), mut(a)), mb(e.b, eng(), mut(b)), mc(e.c, eng(), c);
  e.prim.execute(strm(), {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
  strm().wait();
}

}  // namespace sssseg
