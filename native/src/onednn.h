// Shared oneDNN state of the native backend's kernels.
#pragma once
#include <dnnl.hpp>

#include <string>

namespace sssseg {

dnnl::engine& eng();
dnnl::stream& strm();
/** Records the implementation name of the primitive about to run (see lastImpl()). */
void setLastImpl(const std::string& impl);

}  // namespace sssseg
