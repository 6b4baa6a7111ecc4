// A progress bar for long work, on stderr: `label [#####.....] done/total unit  rate/s  ETA h:mm:ss  extra`.
// On a terminal it redraws in place (at most ~10 times a second); in a log file it writes a line every
// `log_every_s` seconds and at the end, so logs stay short. Disabled bars print nothing.
// Thread safety: one thread updates a bar.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llamba::core {

// "1:02:03" (hours:minutes:seconds).
std::string format_hms(double seconds);

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, std::string unit = "", bool enabled = true, double log_every_s = 10);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `done` of `total` units are finished; `extra` is appended (e.g. the running loss). `force_line` writes the
  // state as a line of its own now, also on a terminal (e.g. after an evaluation).
  void update(int64_t done, std::string_view extra = {}, bool force_line = false);
  // Writes the final state and ends the line. Called by the destructor if not called before.
  void finish(std::string_view extra = {});
  double elapsed_s() const;
  bool is_tty() const { return tty_; }
  // Units per second since the bar started, counting from `first_done` (the work already done when a
  // resumed job started does not count towards the rate).
  double rate() const;
  void set_first_done(int64_t first_done) { first_done_ = first_done; }

 private:
  void draw(bool newline);

  std::string label_, unit_, extra_;
  int64_t total_, done_ = 0, first_done_ = 0;
  bool enabled_, tty_, finished_ = false;
  double log_every_s_, start_s_, last_draw_s_ = -1e300;
};

}  // namespace llamba::core
