// The oneDNN engine and stream shared by every primitive, and what `info` reports.
#include "onednn.h"

#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <sstream>

#include "kernels.h"

namespace sssseg {
namespace {
std::string lastImplName;
}  // namespace

dnnl::engine& eng() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& strm() {
  static dnnl::stream s(eng());
  return s;
}

void setLastImpl(const std::string& impl) { lastImplName = impl; }

float* scratch(int slot, size_t bytes) {
  struct Buf {
    float* p = nullptr;
    size_t bytes = 0;
  };
  static Buf bufs[kScratchSlots];
  Buf& b = bufs[slot];
  if (b.bytes < bytes) {
    std::free(b.p);
    b.bytes = (bytes + 4095) / 4096 * 4096;
    b.p = static_cast<float*>(std::aligned_alloc(4096, b.bytes));
    if (b.p == nullptr) throw std::bad_alloc();
  }
  return b.p;
}

void roundToBf16(const float* x, float* out, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 15))
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, 4);
    if ((u & 0x7f800000u) == 0x7f800000u) {
      if (u & 0x007fffffu) u |= 0x00400000u;  // NaN stays a (quiet) NaN
    } else {
      u += 0x7fffu + ((u >> 16) & 1u);
    }
    u &= 0xffff0000u;
    std::memcpy(out + i, &u, 4);
  }
}

bool bf16Supported() {
  static const bool ok = [] {
    const auto isa = dnnl::get_effective_cpu_isa();
    if (isa != dnnl::cpu_isa::avx512_core_bf16 && isa != dnnl::cpu_isa::avx512_core_amx) return false;
    // and a bf16 convolution must actually be available
    try {
      using dt = dnnl::memory::data_type;
      using tag = dnnl::memory::format_tag;
      const dnnl::memory::desc src({1, 16, 8, 8}, dt::bf16, tag::any), wei({16, 16, 3, 3}, dt::bf16, tag::any),
          dst({1, 16, 8, 8}, dt::f32, tag::any);
      dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, wei,
                                        dst, {1, 1}, {1, 1}, {1, 1});
      dnnl::convolution_forward::primitive_desc pd(d, eng());
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return ok;
}

std::string describe() {
  static const char* names[] = {"all", "sse41", "avx", "avx2", "avx512_mic", "avx512_mic_4ops",
                                "avx512_core", "avx512_core_vnni", "avx512_core_bf16", "avx512_core_amx",
                                "avx2_vnni"};
  const auto isa = dnnl::get_effective_cpu_isa();
  const char* isaName = "unknown";
  const dnnl::cpu_isa all[] = {dnnl::cpu_isa::all, dnnl::cpu_isa::sse41, dnnl::cpu_isa::avx, dnnl::cpu_isa::avx2,
                               dnnl::cpu_isa::avx512_mic, dnnl::cpu_isa::avx512_mic_4ops, dnnl::cpu_isa::avx512_core,
                               dnnl::cpu_isa::avx512_core_vnni, dnnl::cpu_isa::avx512_core_bf16,
                               dnnl::cpu_isa::avx512_core_amx, dnnl::cpu_isa::avx2_vnni};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); ++i) {
    if (all[i] == isa) isaName = names[i];
  }
  const dnnl_version_t* v = dnnl_version();
  std::ostringstream o;
  o << "{\"isa\":\"" << isaName << "\",\"onednn\":\"" << v->major << '.' << v->minor << '.' << v->patch
    << "\",\"threads\":" << omp_get_max_threads() << ",\"bf16\":" << (bf16Supported() ? "true" : "false") << '}';
  return o.str();
}

std::string lastImpl() { return lastImplName; }

}  // namespace sssseg
