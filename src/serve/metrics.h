// /metrics: the scheduler's counters in Prometheus' text exposition format (version 0.0.4).
#pragma once

#include <cstdint>
#include <string>

#include "serve/scheduler.h"

namespace llamba::serve {

std::string metrics_text(const SchedulerStats& s, int64_t http_errors);

}  // namespace llamba::serve
