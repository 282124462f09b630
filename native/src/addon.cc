// N-API entry points. Every kernel receives the tfjs wasm heap (one ArrayBuffer), byte offsets
// of its operands in it and an Int32Array of shape fields; it reads and writes the heap in place.
// Offsets and extents are bounds-checked here so a wrong shape throws instead of corrupting memory.
#include <node_api.h>

#include <cstdint>
#include <exception>
#include <string>

#include "elementwise.h"
#include "kernels.h"
#include "pooling.h"

namespace {

struct Failure : std::exception {
  std::string msg;
  explicit Failure(std::string m) : msg(std::move(m)) {}
  const char* what() const noexcept override { return msg.c_str(); }
};

void check(napi_status st, const char* what) {
  if (st != napi_ok) throw Failure(std::string("sssseg-native: bad argument: ") + what);
}

struct Args {
  napi_value argv[9];
  size_t argc = 9;
  Args(napi_env env, napi_callback_info info) { check(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "args"); }
};

struct Heap {
  uint8_t* base = nullptr;
  size_t bytes = 0;
  Heap(napi_env env, napi_value v) {
    void* data = nullptr;
    check(napi_get_arraybuffer_info(env, v, &data, &bytes), "heap must be an ArrayBuffer");
    base = static_cast<uint8_t*>(data);
  }
  float* at(napi_env env, napi_value off, int64_t elems) const {
    int64_t o = 0;
    check(napi_get_value_int64(env, off, &o), "offset");
    if (o < 0 || elems < 0 || o % 4 != 0 || static_cast<uint64_t>(o) + 4 * static_cast<uint64_t>(elems) > bytes) {
      throw Failure("sssseg-native: operand outside the heap (offset " + std::to_string(o) + ", " +
                    std::to_string(elems) + " floats, heap " + std::to_string(bytes) + " bytes)");
    }
    return reinterpret_cast<float*>(base + o);
  }
};

template <int N>
void fields(napi_env env, napi_value v, int64_t (&out)[N]) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  check(napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr), "shape must be an Int32Array");
  if (type != napi_int32_array || length != N) throw Failure("sssseg-native: shape must be an Int32Array of " + std::to_string(N));
  const int32_t* p = static_cast<const int32_t*>(data);
  for (int i = 0; i < N; ++i) {
    if (p[i] < 0) throw Failure("sssseg-native: negative shape field");
    out[i] = p[i];
  }
}

napi_value str(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}

template <typename F>
napi_value guarded(napi_env env, F f) {
  try {
    return f();
  } catch (const std::exception& e) {
    napi_throw_error(env, "SSSSEG_NATIVE", e.what());
  } catch (...) {
    napi_throw_error(env, "SSSSEG_NATIVE", "sssseg-native: unknown failure");
  }
  return nullptr;
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
                              f[9], f[10], f[11], f[12], f[13], f[14], f[15], f[16]};
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

/** matmul(heap, a, b, c, shape) with shape [batchA, batchB, m, k, n, transA, transB]. */
napi_value MatMul(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc != 5) throw Failure("sssseg-native: matmul takes 5 arguments");
    int64_t f[sssseg::MatMulShape::kFields];
    fields(env, a.argv[4], f);
    const sssseg::MatMulShape s{f[0], f[1], f[2], f[3], f[4], f[5], f[6]};
    if (s.batchA != s.batchB && s.batchA != 1 && s.batchB != 1) throw Failure("sssseg-native: matmul batches do not broadcast");
    const Heap heap(env, a.argv[0]);
    const int64_t batch = s.batchA > s.batchB ? s.batchA : s.batchB;
    sssseg::matMul(s, heap.at(env, a.argv[1], s.batchA * s.m * s.k), heap.at(env, a.argv[2], s.batchB * s.k * s.n),
                   heap.at(env, a.argv[3], batch * s.m * s.n));
    return nullptr;
  });
}

int64_t integer(napi_env env, napi_value v) {
  int64_t out = 0;
  check(napi_get_value_int64(env, v, &out), "integer");
  return out;
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
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
