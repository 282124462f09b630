// N-API entry points. Every kernel receives the tfjs wasm heap (one ArrayBuffer), byte offsets
// of its operands in it and an Int32Array of shape fields; it reads and writes the heap in place.
// Offsets and extents are bounds-checked here so a wrong shape throws instead of corrupting memory.
#include <node_api.h>

#include <cstdint>
#include <string>

#include "elementwise.h"
#include "kernels.h"
#include "napi-util.h"
#include "onednn.h"
#include "pooling.h"

namespace {

using namespace sssseg::napi;

/** A precision field checked: 0 f32, 1 bf16 (only where oneDNN runs it), 2 emulated bf16. */
int64_t precision(int64_t p) {
  if (p < 0 || p > 2) throw Failure("sssseg-native: unknown precision " + std::to_string(p));
  if (p == 1 && !sssseg::bf16Supported()) throw Failure("sssseg-native: bf16 is not supported by oneDNN on this CPU");
  return p;
}

/** conv(kind, heap, a, b, out, shape): kind 0 forward(x, w), 1 backward data(dy, w), 2 backward weights(x, dy). */
napi_value Conv(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc != 6) throw Failure("sssseg-native: conv takes 6 arguments");
    int32_t kind = 0;
    check(napi_get_value_int32(env, a.argv[0], &kind), "kind");
    int64_t f[sssseg::ConvShape::kFields];
    fields(env, a.argv[5], f);
    const sssseg::ConvShape s{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8],
                              f[9], f[10], f[11], f[12], f[13], f[14], f[15], f[16], precision(f[17])};
    const Heap heap(env, a.argv[1]);
    const int64_t xN = s.n * s.ih * s.iw * s.ic, yN = s.n * s.oh * s.ow * s.oc, wN = s.kh * s.kw * s.ic * s.oc;
    if (kind == 0) {
      sssseg::convForward(s, heap.at(env, a.argv[2], xN), heap.at(env, a.argv[3], wN), heap.at(env, a.argv[4], yN));
    } else if (kind == 1) {
      sssseg::convBackwardData(s, heap.at(env, a.argv[2], yN), heap.at(env, a.argv[3], wN), heap.at(env, a.argv[4], xN));
    } else if (kind == 2) {
      sssseg::convBackwardWeights(s, heap.at(env, a.argv[2], xN), heap.at(env, a.argv[3], yN), heap.at(env, a.argv[4], wN));
    } else {
      throw Failure("sssseg-native: unknown conv kind");
    }
    return nullptr;
  });
}

/** matmul(heap, a, b, c, shape) with shape [batchA, batchB, m, k, n, transA, transB, prec]. */
napi_value MatMul(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc != 5) throw Failure("sssseg-native: matmul takes 5 arguments");
    int64_t f[sssseg::MatMulShape::kFields];
    fields(env, a.argv[4], f);
    const sssseg::MatMulShape s{f[0], f[1], f[2], f[3], f[4], f[5], f[6], precision(f[7])};
    if (s.batchA != s.batchB && s.batchA != 1 && s.batchB != 1) throw Failure("sssseg-native: matmul batches do not broadcast");
    const Heap heap(env, a.argv[0]);
    const int64_t batch = s.batchA > s.batchB ? s.batchA : s.batchB;
    sssseg::matMul(s, heap.at(env, a.argv[1], s.batchA * s.m * s.k), heap.at(env, a.argv[2], s.batchB * s.k * s.n),
                   heap.at(env, a.argv[3], batch * s.m * s.n));
    return nullptr;
  });
}

/** binary(op, heap, a, na, b, nb, out, n): op 0 add, 1 sub, 2 mul; see elementwise.h for broadcasting. */
napi_value Binary(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc != 8) throw Failure("sssseg-native: binary takes 8 arguments");
    const int64_t op = integer(env, a.argv[0]), na = integer(env, a.argv[3]), nb = integer(env, a.argv[5]),
                  n = integer(env, a.argv[7]);
    if (op < 0 || op > 2) throw Failure("sssseg-native: unknown binary op");
    const auto fits = [n](int64_t k) { return k == n || (k >= 1 && k < n && n % k == 0); };
    if (n < 1 || !fits(na) || !fits(nb)) throw Failure("sssseg-native: binary operands do not broadcast");
    if (na < n && nb < n && na > 1 && nb > 1) throw Failure("sssseg-native: binary broadcasts only one operand");
    const Heap heap(env, a.argv[1]);
    sssseg::binary(static_cast<sssseg::BinaryOp>(op), heap.at(env, a.argv[2], na), na, heap.at(env, a.argv[4], nb), nb,
                   heap.at(env, a.argv[6], n), n);
    return nullptr;
  });
}

/**
 * batchNorm(heap, x, mean, var, offset, scale, y, fields, eps) with fields Int32Array
 * [rows, c, nMean, nVar, nOffset, nScale] (a count of 0: operand absent, its offset ignored).
 */
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc != 9) throw Failure("sssseg-native: batchNorm takes 9 arguments");
    const Heap heap(env, a.argv[0]);
    int64_t f[6];
    fields(env, a.argv[7], f);
    sssseg::BatchNormArgs b{};
    b.rows = f[0];
    b.c = f[1];
    b.nMean = f[2];
    b.nVar = f[3];
    b.nOffset = f[4];
    b.nScale = f[5];
    double eps = 0;
    check(napi_get_value_double(env, a.argv[8], &eps), "eps");
    b.eps = static_cast<float>(eps);
    for (int64_t k : {b.nMean, b.nVar, b.nOffset, b.nScale}) {
      if (k != 0 && k != 1 && k != b.c) throw Failure("sssseg-native: batchNorm statistics must have 1 or c values");
    }
    if (b.nMean == 0 || b.nVar == 0) throw Failure("sssseg-native: batchNorm needs mean and variance");
    b.x = heap.at(env, a.argv[1], b.rows * b.c);
    b.mean = heap.at(env, a.argv[2], b.nMean);
    b.var = heap.at(env, a.argv[3], b.nVar);
    b.offset = b.nOffset ? heap.at(env, a.argv[4], b.nOffset) : nullptr;
    b.scale = b.nScale ? heap.at(env, a.argv[5], b.nScale) : nullptr;
    b.y = heap.at(env, a.argv[6], b.rows * b.c);
    sssseg::batchNorm(b);
    return nullptr;
  });
}

/** maxPoolGrad(heap, x, dy, dx, shape) with shape as pooling.h's PoolShape. */
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc != 5) throw Failure("sssseg-native: maxPoolGrad takes 5 arguments");
    int64_t f[sssseg::PoolShape::kFields];
    fields(env, a.argv[4], f);
    const sssseg::PoolShape s{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], f[13]};
    const Heap heap(env, a.argv[0]);
    const int64_t xN = s.n * s.ih * s.iw * s.c;
    sssseg::maxPoolGrad(s, heap.at(env, a.argv[1], xN), heap.at(env, a.argv[2], s.n * s.oh * s.ow * s.c),
                        heap.at(env, a.argv[3], xN));
    return nullptr;
  });
}

/** gather(heap, x, idx, out, shape) with shape [outer, axisLen, nIdx, inner]; idx is int32. */
napi_value Gather(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc != 5) throw Failure("sssseg-native: gather takes 5 arguments");
    int64_t f[4];
    fields(env, a.argv[4], f);
    const Heap heap(env, a.argv[0]);
    // int32 and float32 have the same size, so the float bounds check covers the indices
    const auto* idx = reinterpret_cast<const int32_t*>(heap.at(env, a.argv[2], f[2]));
    sssseg::gatherRows(heap.at(env, a.argv[1], f[0] * f[1] * f[3]), idx, heap.at(env, a.argv[3], f[0] * f[2] * f[3]),
                       f[0], f[1], f[2], f[3]);
    return nullptr;
  });
}

napi_value Info(napi_env env, napi_callback_info) {
  return guarded(env, [&] { return str(env, sssseg::describe()); });
}

napi_value LastImpl(napi_env env, napi_callback_info) {
  return guarded(env, [&] { return str(env, sssseg::lastImpl()); });
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"conv", nullptr, Conv, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNorm", nullptr, BatchNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gather", nullptr, Gather, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"lastImpl", nullptr, LastImpl, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  defineTrainKernels(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
