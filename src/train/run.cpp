// run_training: the outer loop around Trainer::step — progress bar (tokens/s, loss, ETA) on stderr, log.csv,
// periodic held-out evaluation, periodic and final checkpoints, and the PNG loss curve at the end.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/progress.h"
#include "io/plot.h"
#include "train/trainer.h"

namespace llamba::train {

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Removes temp files a killed writer may have left next to `path` (AtomicFile names them <path>.tmp.<pid>).
void remove_stale_temps(const std::filesystem::path& path) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(path.parent_path(), ec))
    if (e.path().filename().string().rfind(path.filename().string() + ".tmp.", 0) == 0)
      std::filesystem::remove(e.path(), ec);
}
}  // namespace

EvalResult run_training(Trainer& t, const RunOptions& opts) {
  namespace fs = std::filesystem;
  const TrainConfig& c = t.config();
  fs::create_directories(opts.out_dir);
  const fs::path ckpt = fs::path(opts.out_dir) / "checkpoint.gguf";
  const fs::path csv_path = fs::path(opts.out_dir) / "log.csv";
  remove_stale_temps(ckpt);
  const bool tagged = !opts.tag_column.empty();
  const std::string prefix = tagged ? opts.tag + "," : "";
  const bool fresh = !tagged && (t.steps_done() == 0 || !fs::exists(csv_path));
  const bool header = fresh || !fs::exists(csv_path);
  std::ofstream csv(csv_path, fresh ? std::ios::trunc : std::ios::app);
  if (header)
    csv << (tagged ? opts.tag_column + "," : "") << "step,tokens,lr,loss,grad_norm,tokens_per_s,val_loss,val_accuracy\n";
  io::Series train_curve{"train", {}, {}}, val_curve{"held-out", {}, {}};
  // Earlier points of a resumed run come back from the CSV so the final plot covers the whole run.
  if (!fresh) {
    std::ifstream in(csv_path);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      if (tagged && line.rfind(prefix, 0) != 0) continue;  // another part's rows
      line = line.substr(prefix.size());
      double v[8] = {};
      int k = 0;
      size_t pos = 0;
      while (k < 8) {
        const size_t e = line.find(',', pos);
        const std::string f = line.substr(pos, e == std::string::npos ? std::string::npos : e - pos);
        v[k++] = f.empty() ? NAN : std::atof(f.c_str());
        if (e == std::string::npos) break;
        pos = e + 1;
      }
      if (v[0] > (double)t.steps_done()) continue;
      if (!std::isnan(v[3])) train_curve.x.push_back(v[0]), train_curve.y.push_back(v[3]);
      if (!std::isnan(v[6])) val_curve.x.push_back(v[0]), val_curve.y.push_back(v[6]);
    }
  }
  const double t0 = now_s();
  // On a terminal the bar redraws in place; in a log file it prints a line every log_interval (and never on its
  // own timer).
  core::ProgressBar bar(opts.bar_label, c.steps, "steps", opts.progress_bar, 1e300);
  bar.set_first_done(t.steps_done());
  int64_t tokens = 0;
  EvalResult last;
  const int64_t end = opts.stop_at_step >= 0 ? std::min(opts.stop_at_step, c.steps) : c.steps;
  while (t.steps_done() < end) {
    const StepResult r = t.step();
    if (opts.on_step) opts.on_step(r);
    tokens += r.tokens;
    const double dt = now_s() - t0;
    const double tps = tokens / std::max(dt, 1e-9);
    const bool eval_now = c.eval_interval > 0 && (r.step % c.eval_interval == 0 || r.step == c.steps);
    std::string val_loss, val_acc;
    if (eval_now) {
      last = t.evaluate();
      val_loss = std::to_string(last.loss);
      val_acc = std::to_string(last.accuracy);
      val_curve.x.push_back((double)r.step);
      val_curve.y.push_back(last.loss);
    }
    const bool log_now = r.step % std::max<int64_t>(1, c.log_interval) == 0 || eval_now || r.step == c.steps;
    if (log_now) {
      csv << prefix << r.step << ',' << r.step * r.tokens << ',' << r.lr << ',' << r.loss << ',' << r.grad_norm << ',' << tps
          << ',' << val_loss << ',' << val_acc << '\n';
      csv.flush();
      train_curve.x.push_back((double)r.step);
      train_curve.y.push_back(r.loss);
    }
    bar.update(r.step,
               fmt::format("loss {:.4f} lr {:.2e} {:.0f} tok/s{}", r.loss, r.lr, tps,
                           eval_now ? " | held-out loss " + val_loss.substr(0, 6) + " acc " + val_acc.substr(0, 5) : ""),
               eval_now || (log_now && !bar.is_tty()));
    if (c.checkpoint_interval > 0 && r.step % c.checkpoint_interval == 0 && r.step < c.steps)
      t.save(ckpt.string(), opts.checkpoint_extra);
  }
  bar.finish();
  t.save(ckpt.string(), opts.checkpoint_extra);
  if (!train_curve.x.empty())
    io::plot_png((fs::path(opts.out_dir) / opts.plot_name).string(),
             opts.title.empty() ? c.arch + " training loss" : opts.title, {train_curve, val_curve});
  return last;
}

}  // namespace llamba::train
