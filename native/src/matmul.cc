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

/** A row-major (or transposed: swapped strides) batch of matrices of type `type`. */
memory::desc matrices(int64_t batch, int64_t rows, int64_t cols, bool trans, dt type) {
  return memory::desc({batch, rows, cols}, type, trans ? memory::dims{rows * cols, 1, rows} : memory::dims{rows * cols, cols, 1});
}
}  // namespace

void matMul(const MatMulShape& s, const float* a, const float* b, float* c) {
  struct Entry {
    dnnl::matmul prim;
    memory::desc a, b, c, ak, bk;
    /** f32 → bf16 reorders of the operands (bf16 only) */
    dnnl::reorder toA, toB;
    std::string impl;
  };
  static std::unordered_map<std::string, std::unique_ptr<Entry>> cache;
  const std::string key = s.key();
  const bool bf16 = static_cast<Precision>(s.prec) == Precision::BF16;
  auto it = cache.find(key);
  if (it == cache.end()) {
    auto e = std::make_unique<Entry>();
    const int64_t batch = s.batchA > s.batchB ? s.batchA : s.batchB;
    // a transposed operand is the same row-major buffer read with swapped strides
    e->a = matrices(s.batchA, s.m, s.k, s.transA, dt::f32);
    e->b = matrices(s.batchB, s.k, s.n, s.transB, dt::f32);
    e->c = memory::desc({batch, s.m, s.n}, dt::f32, tag::abc);
    e->ak = bf16 ? matrices(s.batchA, s.m, s.k, s.transA, dt::bf16) : e->a;
    e->bk = bf16 ? matrices(s.batchB, s.k, s.n, s.transB, dt::bf16) : e->b;
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(e->ak, e->bk, e->c), eng());
    if (bf16) {
      e->toA = dnnl::reorder(dnnl::reorder::primitive_desc(eng(), e->a, eng(), e->ak));
      e->toB = dnnl::reorder(dnnl::reorder::primitive_desc(eng(), e->b, eng(), e->bk));
    }
    e->prim = dnnl::matmul(pd);
    e->impl = pd.impl_info_str();
    it = cache.emplace(key, std::move(e)).first;
  }
  Entry& e = *it->second;
  setLastImpl(e.impl);
  memory ma(e.a, eng(), mut(a)), mb(e.b, eng(), mut(b)), mc(e.c, eng(), c);
  if (static_cast<Precision>(s.prec) == Precision::BF16_EMULATED) {
    const int64_t na = s.batchA * s.m * s.k, nb = s.batchB * s.k * s.n;
    float* ra = scratch(4, sizeof(float) * na);
    float* rb = scratch(5, sizeof(float) * nb);
    roundToBf16(a, ra, na);
    roundToBf16(b, rb, nb);
    ma = memory(e.a, eng(), ra);
    mb = memory(e.b, eng(), rb);
  } else if (bf16) {
    memory ka(e.ak, eng(), scratch(4, e.ak.get_size())), kb(e.bk, eng(), scratch(5, e.bk.get_size()));
    e.toA.execute(strm(), ma, ka);
    e.toB.execute(strm(), mb, kb);
    ma = ka;
    mb = kb;
  }
  e.prim.execute(strm(), {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
  strm().wait();
}

}  // namespace sssseg
