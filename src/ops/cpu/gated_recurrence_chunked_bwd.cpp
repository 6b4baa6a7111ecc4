// placeholder
#include "ops/cpu/gated_recurrence_cpu.h"
namespace llamba::ops::cpu {
void gated_recurrence_chunked_backward(core::ThreadPool&, const GatedRecurrenceBackwardArgs&, const detail::GrDims&) {
  LLAMBA_ENSURE(false, "not yet");
}
}
