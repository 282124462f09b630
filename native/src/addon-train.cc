// N-API entry points of the training kernels (batchnorm.h): fused batch norm forward and
// backward, axpby (EMA, running statistics) and the SGD update.
#include "batchnorm.h"
#include "napi-util.h"

namespace sssseg::napi {
namespace {

/**
 * bnTrain(heap, x, gamma, beta, residual, y, mean, var, fields, eps) with fields Int32Array
 * [rows, c, relu, hasResidual] (batchnorm.h); residual's offset is ignored without one.
 */
napi_value BnTrain(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc != 10) throw Failure("sssseg-native: bnTrain takes 10 arguments");
    const Heap heap(env, a.argv[0]);
    int64_t f[4];
    fields(env, a.argv[8], f);
    const int64_t n = f[0] * f[1], c = f[1];
    sssseg::BnTrainArgs b{};
    b.rows = f[0], b.c = c, b.relu = f[2] != 0;
    b.eps = static_cast<float>(number(env, a.argv[9]));
    b.x = heap.at(env, a.argv[1], n);
    b.gamma = heap.at(env, a.argv[2], c);
    b.beta = heap.at(env, a.argv[3], c);
    b.residual = f[3] ? heap.at(env, a.argv[4], n) : nullptr;
    b.y = heap.at(env, a.argv[5], n);
    b.mean = heap.at(env, a.argv[6], c);
    b.var = heap.at(env, a.argv[7], c);
    if (b.rows < 1 || c < 1) throw Failure("sssseg-native: bnTrain needs at least one row and channel");
    sssseg::bnTrainForward(b);
    return nullptr;
  });
}

/**
 * bnTrainGrad(heap, dy, x, y, gamma, mean, var, dx, dgamma, dbeta, dres, fields, eps) with fields
 * [rows, c, relu, hasResidual]: y is read only with relu, dres written only with a residual.
 */
napi_value BnTrainGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc != 13) throw Failure("sssseg-native: bnTrainGrad takes 13 arguments");
    const Heap heap(env, a.argv[0]);
    int64_t f[4];
    fields(env, a.argv[11], f);
    const int64_t n = f[0] * f[1], c = f[1];
    sssseg::BnTrainGradArgs b{};
    b.rows = f[0], b.c = c;
    b.eps = static_cast<float>(number(env, a.argv[12]));
    b.dy = heap.at(env, a.argv[1], n);
    b.x = heap.at(env, a.argv[2], n);
    b.y = f[2] ? heap.at(env, a.argv[3], n) : nullptr;
    b.gamma = heap.at(env, a.argv[4], c);
    b.mean = heap.at(env, a.argv[5], c);
    b.var = heap.at(env, a.argv[6], c);
    b.dx = heap.at(env, a.argv[7], n);
    b.dgamma = heap.at(env, a.argv[8], c);
    b.dbeta = heap.at(env, a.argv[9], c);
    b.dres = f[3] ? heap.at(env, a.argv[10], n) : nullptr;
    if (b.rows < 1 || c < 1) throw Failure("sssseg-native: bnTrainGrad needs at least one row and channel");
    sssseg::bnTrainBackward(b);
    return nullptr;
  });
}

/** axpby(heap, a, alpha, b, beta, out, n): out = alpha·a + beta·b. */
napi_value Axpby(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc != 7) throw Failure("sssseg-native: axpby takes 7 arguments");
    const Heap heap(env, a.argv[0]);
    const int64_t n = integer(env, a.argv[6]);
    sssseg::axpby(heap.at(env, a.argv[1], n), static_cast<float>(number(env, a.argv[2])), heap.at(env, a.argv[3], n),
                  static_cast<float>(number(env, a.argv[4])), heap.at(env, a.argv[5], n), n);
    return nullptr;
  });
}

/** sgdStep(heap, p, g, m, pOut, mOut, n, lr, momentum, weightDecay). */
napi_value SgdStep(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc != 10) throw Failure("sssseg-native: sgdStep takes 10 arguments");
    const Heap heap(env, a.argv[0]);
    const int64_t n = integer(env, a.argv[6]);
    const auto f = [&](int i) { return static_cast<float>(number(env, a.argv[i])); };
    sssseg::sgdStep(heap.at(env, a.argv[1], n), heap.at(env, a.argv[2], n), heap.at(env, a.argv[3], n), f(7), f(8), f(9),
                    heap.at(env, a.argv[4], n), heap.at(env, a.argv[5], n), n);
    return nullptr;
  });
}

}  // namespace

void defineTrainKernels(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"bnTrain", nullptr, BnTrain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnTrainGrad", nullptr, BnTrainGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"axpby", nullptr, Axpby, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgdStep", nullptr, SgdStep, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace sssseg::napi
