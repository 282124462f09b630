// The oneDNN engine and stream shared by every primitive, and what `info` reports.
#include "onednn.h"

#include <omp.h>

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
    << "\",\"threads\":" << omp_get_max_threads() << '}';
  return o.str();
}

std::string lastImpl() { return lastImplName; }

}  // namespace sssseg
