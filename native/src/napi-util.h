// Helpers shared by the N-API entry points (addon.cc, addon-train.cc): argument unpacking, heap
// operands with bounds checks, and C++ exceptions turned into JS errors.
#pragma once
#include <node_api.h>

#include <cstdint>
#include <exception>
#include <string>

namespace sssseg::napi {

struct Failure : std::exception {
  std::string msg;
  explicit Failure(std::string m) : msg(std::move(m)) {}
  const char* what() const noexcept override { return msg.c_str(); }
};

inline void check(napi_status st, const char* what) {
  if (st != napi_ok) throw Failure(std::string("sssseg-native: bad argument: ") + what);
}

struct Args {
  napi_value argv[16];
  size_t argc = 16;
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

inline napi_value str(napi_env env, const std::string& s) {
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

inline int64_t integer(napi_env env, napi_value v) {
  int64_t out = 0;
  check(napi_get_value_int64(env, v, &out), "integer");
  return out;
}

inline double number(napi_env env, napi_value v) {
  double out = 0;
  check(napi_get_value_double(env, v, &out), "number");
  return out;
}

/** Adds the training kernels of addon-train.cc to the addon's exports. */
void defineTrainKernels(napi_env env, napi_value exports);

}  // namespace sssseg::napi
