// oneDNN convolutions (forward, input gradient, filter gradient) for the native backend.
// Primitive descriptors and primitives are cached by shape (creating a descriptor costs far more
// than a small conv). Tensors are used in place in the wasm heap; where oneDNN's blocked layouts
// are faster, an operand is reordered once per op through a reusable scratch buffer.
#include "kernels.h"
#include "onednn.h"

#include <dnnl.hpp>

#include <cstdlib>
#include <memory>
#include <new>
#include <sstream>
#include <vector>
#include <unordered_map>

namespace sssseg {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

memory::desc nhwc(int64_t n, int64_t c, int64_t h, int64_t w, dt type = dt::f32) {
  return memory::desc({n, c, h, w}, type, tag::nhwc);
}

memory::desc hwio(const ConvShape& s) { return memory::desc({s.oc, s.ic, s.kh, s.kw}, dt::f32, tag::hwio); }

/** The type a kernel reads its operands in: bf16 for Precision::BF16, else f32 (outputs stay f32). */
dt inType(const ConvShape& s) { return static_cast<Precision>(s.prec) == Precision::BF16 ? dt::bf16 : dt::f32; }

/**
 * Descriptors shared by all three directions; the forward one is their required hint. src, dst:
 * the caller's NHWC f32 buffers.
 */
struct ConvDescs {
  memory::desc src, dst, weiAny;
  memory::dims strides, dil, padL, padR;
  dt in;
  explicit ConvDescs(const ConvShape& s)
      : src(nhwc(s.n, s.ic, s.ih, s.iw)),
        dst(nhwc(s.n, s.oc, s.oh, s.ow)),
        weiAny({s.oc, s.ic, s.kh, s.kw}, inType(s), tag::any),
        strides{s.sh, s.sw},
        dil{s.dh - 1, s.dw - 1},
        padL{s.pt, s.pl},
        padR{s.pb, s.pr},
        in(inType(s)) {}
  /** activation descriptor of the kernel: blocked (any) or NHWC, of type `type` */
  memory::desc act(const memory::desc& user, bool blocked, dt type) const {
    const auto d = user.dims();
    return blocked ? memory::desc(d, type, tag::any) : memory::desc(d, type, tag::nhwc);
  }
  dnnl::convolution_forward::primitive_desc forward() const {
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                      act(src, false, in), weiAny, dst, strides, dil, padL, padR);
    return dnnl::convolution_forward::primitive_desc(d, eng());
  }
};

/**
 * One operand of a cached primitive: the caller's layout, the kernel's, and the reorder between
 * them when they differ (filters HWIO vs blocked; activations NHWC vs nChw8c where that is faster).
 */
struct Operand {
  int arg;
  bool input;
  memory::desc user, kern;
  dnnl::reorder move;
  bool reorder = false;
  Operand(int a, bool in, const memory::desc& u, const memory::desc& k) : arg(a), input(in), user(u), kern(k) {
    reorder = k != u;
    if (reorder) move = in ? dnnl::reorder(dnnl::reorder::primitive_desc(eng(), u, eng(), k))
                           : dnnl::reorder(dnnl::reorder::primitive_desc(eng(), k, eng(), u));
  }
};

struct Entry {
  dnnl::primitive prim;
  std::vector<Operand> ops;
  std::string impl;
  /** forward run as the input gradient of its adjoint conv, on the flipped filter (convForward) */
  bool adjoint = false;
};

using Cache = std::unordered_map<std::string, std::unique_ptr<Entry>>;

template <typename Build>
Entry& cached(Cache& cache, const std::string& key, Build build) {
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, std::make_unique<Entry>(build())).first;
  setLastImpl(it->second->impl);
  return *it->second;
}

/** Runs `e` on caller buffers given in the order of e.ops, reordering through scratch as needed. */
void run(Entry& e, std::initializer_list<float*> ptrs) {
  std::unordered_map<int, memory> args;
  std::vector<std::pair<memory, memory>> outs;
  int slot = 0;
  auto p = ptrs.begin();
  for (const Operand& o : e.ops) {
    memory user(o.user, eng(), *p++);
    if (!o.reorder) {
      args.emplace(o.arg, user);
      continue;
    }
    memory kern(o.kern, eng(), scratch(slot++, o.kern.get_size()));
    if (o.input) {
      o.move.execute(strm(), user, kern);
    } else {
      outs.emplace_back(kern, user);
    }
    args.emplace(o.arg, kern);
  }
  e.prim.execute(strm(), args);
  size_t i = 0;
  for (const Operand& o : e.ops) {
    if (o.reorder && !o.input) o.move.execute(strm(), outs[i].first, outs[i].second), ++i;
  }
  strm().wait();
}

float* mut(const float* p) { return const_cast<float*>(p); }

/**
 * Activations: NHWC as given, unless oneDNN's jit kernels prefer their blocked layout; the
 * reorders cost a few % of a 3×3 conv and the blocked kernels are up to 2× faster (filter
 * gradient above all, where this holds for 1×1 too). Other 1×1 convs and the gemm fallback
 * (large dilations) stay in NHWC.
 */
template <typename Pd, typename Make>
Pd choose(const ConvShape& s, Make make, bool blockedEvenFor1x1 = false) {
  if (s.kh * s.kw > 1 || blockedEvenFor1x1) {
    Pd pd = make(true);
    if (std::string(pd.impl_info_str()).find("gemm") == std::string::npos) return pd;
  }
  return make(false);
}


}  // namespace

std::string ConvShape::key() const {
  std::ostringstream o;
  for (int64_t v : {n, ih, iw, ic, oc, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr, prec}) o << v << ',';
  return o.str();
}

std::string MatMulShape::key() const {
  std::ostringstream o;
  for (int64_t v : {batchA, batchB, m, k, n, transA, transB, prec}) o << v << ',';
  return o.str();
}

namespace {

/**
 * A stride-1 conv is the input gradient of its adjoint: the conv from y's shape to x's with the
 * channels swapped, the filter flipped and pads (k−1)·d − pad. oneDNN 2.6 has jit kernels for
 * dilated input gradients on AVX2 but only gemm for dilated forward convs (~1.5× slower), so
 * dilated forwards take that route when the adjoint gets a jit kernel.
 */
bool adjointOf(const ConvShape& s, ConvShape& t) {
  if (s.sh != 1 || s.sw != 1 || (s.dh == 1 && s.dw == 1)) return false;
  t = s;
  t.ih = s.oh, t.iw = s.ow, t.ic = s.oc, t.oc = s.ic, t.oh = s.ih, t.ow = s.iw;
  t.pt = (s.kh - 1) * s.dh - s.pt, t.pl = (s.kw - 1) * s.dw - s.pl;
  t.pb = (s.kh - 1) * s.dh - s.pb, t.pr = (s.kw - 1) * s.dw - s.pr;
  return t.pt >= 0 && t.pl >= 0 && t.pb >= 0 && t.pr >= 0;
}

/** HWIO filter of `s` -> HWIO filter of its adjoint: spatially flipped, in/out channels swapped. */
void flipFilter(const ConvShape& s, const float* w, float* out) {
  const int64_t taps = s.kh * s.kw;
#pragma omp parallel for schedule(static) if (taps * s.ic * s.oc > (1 << 16))
  for (int64_t t = 0; t < taps; ++t) {
    const float* src = w + (taps - 1 - t) * s.ic * s.oc;
    float* dst = out + t * s.ic * s.oc;
    for (int64_t i = 0; i < s.ic; ++i) {
      for (int64_t o = 0; o < s.oc; ++o) dst[o * s.ic + i] = src[i * s.oc + o];
    }
  }
}

dnnl::convolution_backward_data::primitive_desc backwardDataPd(const ConvShape& s);

}  // namespace

namespace {

/**
 * Builds the entry for `s`; where oneDNN has no bf16 kernel for a shape, that conv runs in f32
 * instead (more precise, not slower than the emulation) and its impl name says so.
 */
template <typename Build>
Entry withF32Fallback(const ConvShape& s, Build build) {
  if (static_cast<Precision>(s.prec) != Precision::BF16) return build(s);
  try {
    return build(s);
  } catch (const dnnl::error&) {
    ConvShape f = s;
    f.prec = static_cast<int64_t>(Precision::F32);
    Entry n = build(f);
    n.impl += " (f32: no bf16 kernel for this shape)";
    return n;
  }
}

/** `p` as the kernel reads it: rounded to bf16 into scratch `slot` in emulated bf16, else itself. */
float* operand(const ConvShape& s, int slot, const float* p, int64_t n) {
  if (static_cast<Precision>(s.prec) != Precision::BF16_EMULATED) return mut(p);
  float* r = scratch(slot, sizeof(float) * n);
  roundToBf16(p, r, n);
  return r;
}

int64_t xSize(const ConvShape& s) { return s.n * s.ih * s.iw * s.ic; }
int64_t ySize(const ConvShape& s) { return s.n * s.oh * s.ow * s.oc; }
int64_t wSize(const ConvShape& s) { return s.kh * s.kw * s.ic * s.oc; }

}  // namespace

void convForward(const ConvShape& s, const float* x, const float* w, float* y) {
  static Cache cache;
  Entry& e = cached(cache, s.key(), [&] { return withF32Fallback(s, [](const ConvShape& s) {
    const ConvDescs d(s);
    ConvShape t{};
    // bf16 kernels do dilated forwards themselves; the adjoint route is for f32 on AVX2
    if (d.in == dt::f32 && adjointOf(s, t)) {
      auto pd = backwardDataPd(t);
      if (std::string(pd.impl_info_str()).find("gemm") == std::string::npos) {
        const ConvDescs a(t);
        Entry n{dnnl::convolution_backward_data(pd), {}, std::string(pd.impl_info_str()) + " (adjoint)", true};
        n.ops.emplace_back(DNNL_ARG_DIFF_DST, true, a.dst, pd.diff_dst_desc());
        n.ops.emplace_back(DNNL_ARG_WEIGHTS, true, hwio(t), pd.weights_desc());
        n.ops.emplace_back(DNNL_ARG_DIFF_SRC, false, a.src, pd.diff_src_desc());
        return n;
      }
    }
    auto pd = choose<dnnl::convolution_forward::primitive_desc>(s, [&](bool blocked) {
      dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                         d.act(d.src, blocked, d.in), d.weiAny, d.act(d.dst, blocked, dt::f32), d.strides,
                                         d.dil, d.padL, d.padR);
      return dnnl::convolution_forward::primitive_desc(fd, eng());
    });
    Entry n{dnnl::convolution_forward(pd), {}, pd.impl_info_str()};
    n.ops.emplace_back(DNNL_ARG_SRC, true, d.src, pd.src_desc());
    n.ops.emplace_back(DNNL_ARG_WEIGHTS, true, hwio(s), pd.weights_desc());
    n.ops.emplace_back(DNNL_ARG_DST, false, d.dst, pd.dst_desc());
    return n;
  }); });
  float* xk = operand(s, 4, x, xSize(s));
  float* wk = operand(s, 5, w, wSize(s));
  if (e.adjoint) {
    float* flipped = scratch(3, sizeof(float) * wSize(s));
    flipFilter(s, wk, flipped);
    run(e, {xk, flipped, y});
  } else {
    run(e, {xk, wk, y});
  }
}

namespace {

dnnl::convolution_backward_data::primitive_desc backwardDataPd(const ConvShape& s) {
  const ConvDescs d(s);
  return choose<dnnl::convolution_backward_data::primitive_desc>(s, [&](bool blocked) {
    dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, d.act(d.src, blocked, dt::f32),
                                             d.weiAny, d.act(d.dst, blocked, d.in), d.strides, d.dil, d.padL, d.padR);
    return dnnl::convolution_backward_data::primitive_desc(bd, eng(), d.forward());
  });
}

}  // namespace

void convBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx) {
  static Cache cache;
  Entry& e = cached(cache, s.key(), [&] { return withF32Fallback(s, [](const ConvShape& s) {
    const ConvDescs d(s);
    auto pd = backwardDataPd(s);
    Entry n{dnnl::convolution_backward_data(pd), {}, pd.impl_info_str()};
    n.ops.emplace_back(DNNL_ARG_DIFF_DST, true, d.dst, pd.diff_dst_desc());
    n.ops.emplace_back(DNNL_ARG_WEIGHTS, true, hwio(s), pd.weights_desc());
    n.ops.emplace_back(DNNL_ARG_DIFF_SRC, false, d.src, pd.diff_src_desc());
    return n;
  }); });
  run(e, {operand(s, 4, dy, ySize(s)), operand(s, 5, w, wSize(s)), dx});
}

void convBackwardWeights(const ConvShape& s, const float* x, const float* dy, float* dw) {
  static Cache cache;
  Entry& e = cached(cache, s.key(), [&] { return withF32Fallback(s, [](const ConvShape& s) {
    const ConvDescs d(s);
    auto pd = choose<dnnl::convolution_backward_weights::primitive_desc>(s, [&](bool blocked) {
      // the filter gradient accumulates and is written in f32, whatever the operands' type
      const memory::desc dw({s.oc, s.ic, s.kh, s.kw}, dt::f32, tag::any);
      dnnl::convolution_backward_weights::desc bd(dnnl::algorithm::convolution_direct, d.act(d.src, blocked, d.in), dw,
                                                  d.act(d.dst, blocked, d.in), d.strides, d.dil, d.padL, d.padR);
      return dnnl::convolution_backward_weights::primitive_desc(bd, eng(), d.forward());
    }, true);
    Entry n{dnnl::convolution_backward_weights(pd), {}, pd.impl_info_str()};
    n.ops.emplace_back(DNNL_ARG_SRC, true, d.src, pd.src_desc());
    n.ops.emplace_back(DNNL_ARG_DIFF_DST, true, d.dst, pd.diff_dst_desc());
    n.ops.emplace_back(DNNL_ARG_DIFF_WEIGHTS, false, hwio(s), pd.diff_weights_desc());
    return n;
  }); });
  run(e, {operand(s, 4, x, xSize(s)), operand(s, 5, dy, ySize(s)), dw});
}

}  // namespace sssseg
