// ProgressBar: terminal redraws or periodic log lines on stderr.
#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace llamba::core {

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

std::string format_hms(double s) {
  const int64_t t = s > 0 ? (int64_t)s : 0;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", (long)(t / 3600), (long)(t / 60 % 60), (long)(t % 60));
  return buf;
}

ProgressBar::ProgressBar(std::string label, int64_t total, std::string unit, bool enabled, double log_every_s)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(std::max<int64_t>(total, 0)),
      enabled_(enabled),
      tty_(isatty(fileno(stderr)) != 0),
      log_every_s_(log_every_s),
      start_s_(now_s()) {}

ProgressBar::~ProgressBar() {
  if (!finished_) finish();
}

double ProgressBar::elapsed_s() const { return now_s() - start_s_; }

double ProgressBar::rate() const { return (double)(done_ - first_done_) / std::max(elapsed_s(), 1e-9); }

void ProgressBar::update(int64_t done, std::string_view extra, bool force_line) {
  done_ = done;
  extra_ = extra;
  if (!enabled_) return;
  const double t = now_s();
  if (force_line) {
    draw(true);
  } else if (tty_ ? t - last_draw_s_ >= 0.1 : t - last_draw_s_ >= log_every_s_) {
    draw(!tty_);
  } else {
    return;
  }
  last_draw_s_ = t;
}

void ProgressBar::finish(std::string_view extra) {
  if (finished_) return;
  finished_ = true;
  if (!extra.empty()) extra_ = extra;
  if (enabled_) draw(true);
}

void ProgressBar::draw(bool newline) {
  const double frac = total_ > 0 ? std::min(1.0, (double)done_ / (double)total_) : 0.0;
  constexpr int kWidth = 24;
  const int filled = (int)(frac * kWidth);
  const double r = rate();
  const double eta = r > 0 ? (double)(total_ - done_) / r : 0.0;
  std::string unit = unit_.empty() ? "" : " " + unit_;
  std::fprintf(stderr, "%s%s [%s%s] %lld/%lld%s  %.1f%s/s  %s %s%s%s%s", tty_ ? "\r" : "", label_.c_str(),
               std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(), (long long)done_,
               (long long)total_, unit.c_str(), r, unit.c_str(), finished_ ? "took" : "ETA",
               format_hms(finished_ ? elapsed_s() : eta).c_str(), extra_.empty() ? "" : "  ", extra_.c_str(),
               tty_ && !newline ? "\033[K" : "");
  if (newline) std::fputs(tty_ ? "\033[K\n" : "\n", stderr);
  std::fflush(stderr);
}

}  // namespace llamba::core
