// The bench tables and plots.
#include "bench/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "io/plot.h"

namespace llamba::bench {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// The roofline column: GB/s for decode (bound by reading the weights), GFLOP/s for prefill (bound by compute).
std::string rate(const ModelLabel& m, const Result& r) {
  const double s = r.tokens() / std::max(r.tokens_per_s_mean(), 1e-30);  // seconds per repetition
  return r.kind == Kind::kDecode ? fmt::format("{:.1f} GB/s", m.cost.bytes(r) / s / 1e9)
                                 : fmt::format("{:.1f} GFLOP/s", m.cost.flops(r) / s / 1e9);
}

}  // namespace

std::string markdown(const ModelLabel& m, const std::vector<Result>& rs) {
  std::string out =
      "| model | size | params | backend | threads | seqs | test | t/s | rate | state |\n"
      "| --- | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: |\n";
  for (const Result& r : rs)
    out += fmt::format("| {} {} | {:.2f} MiB | {:.2f} M | CPU | {} | {} | {} | {:.2f} ± {:.2f} | {} | {:.2f} MiB |\n",
                       m.name, m.type, m.cost.weight_bytes / kMiB, m.cost.params / 1e6, r.threads, r.seqs, r.test(),
                       r.tokens_per_s_mean(), r.tokens_per_s_stddev(), rate(m, r), r.state_bytes / kMiB);
  return out;
}

std::string csv(const ModelLabel& m, const std::vector<Result>& rs) {
  std::string out =
      "model,type,size_bytes,params,backend,threads,seqs,test,n_prompt,n_gen,depth,reps,avg_ts,stddev_ts,"
      "flops_per_rep,bytes_per_rep,state_bytes\n";
  for (const Result& r : rs)
    out += fmt::format("{},{},{},{},CPU,{},{},{},{},{},{},{},{:.4f},{:.4f},{:.6g},{:.6g},{}\n", m.name, m.type,
                       m.cost.weight_bytes, m.cost.params, r.threads, r.seqs, r.test(),
                       r.kind == Kind::kPrefill ? r.n : 0, r.kind == Kind::kDecode ? r.n : 0, r.depth,
                       r.seconds.size(), r.tokens_per_s_mean(), r.tokens_per_s_stddev(), m.cost.flops(r),
                       m.cost.bytes(r), r.state_bytes);
  return out;
}

std::string json(const ModelLabel& m, const std::vector<Result>& rs) {
  nlohmann::json a = nlohmann::json::array();
  for (const Result& r : rs)
    a.push_back({{"model", m.name}, {"type", m.type}, {"size_bytes", m.cost.weight_bytes}, {"params", m.cost.params},
                 {"backend", "CPU"}, {"threads", r.threads}, {"seqs", r.seqs}, {"test", r.test()},
                 {"n_prompt", r.kind == Kind::kPrefill ? r.n : 0}, {"n_gen", r.kind == Kind::kDecode ? r.n : 0},
                 {"depth", r.depth}, {"seconds", r.seconds}, {"avg_ts", r.tokens_per_s_mean()},
                 {"stddev_ts", r.tokens_per_s_stddev()}, {"flops_per_rep", m.cost.flops(r)},
                 {"bytes_per_rep", m.cost.bytes(r)}, {"state_bytes", r.state_bytes}});
  return a.dump(1) + "\n";
}

std::vector<std::string> plots(const std::string& dir, const ModelLabel& m, const std::vector<Result>& rs) {
  std::filesystem::create_directories(dir);
  std::vector<std::string> written;
  const std::string who = m.name + " " + m.type;
  // One series per key, x from `x_of`; plotted when some series has two or more points.
  auto plot = [&](const std::string& file, const std::string& title, auto key_of, auto x_of, auto y_of) {
    std::map<std::string, io::Series> by_key;
    for (const Result& r : rs) {
      io::Series& s = by_key[key_of(r)];
      s.name = key_of(r);
      s.x.push_back(x_of(r));
      s.y.push_back(y_of(r));
    }
    std::vector<io::Series> series;
    bool enough = false;
    for (auto& [k, s] : by_key) {
      std::vector<std::pair<double, double>> pts;
      for (size_t i = 0; i < s.x.size(); ++i) pts.emplace_back(s.x[i], s.y[i]);
      std::sort(pts.begin(), pts.end());  // lines run left to right whatever order the flags gave
      for (size_t i = 0; i < pts.size(); ++i) s.x[i] = pts[i].first, s.y[i] = pts[i].second;
      enough = enough || s.x.size() >= 2;
      series.push_back(std::move(s));
    }
    if (!enough) return;
    const std::string path = (std::filesystem::path(dir) / file).string();
    io::plot_png(path, title, series);
    written.push_back(path);
  };
  auto tps = [](const Result& r) { return r.tokens_per_s_mean(); };
  auto kind_n = [](const Result& r) { return (r.kind == Kind::kPrefill ? "pp" : "tg") + std::to_string(r.n); };
  plot("tokens_per_s_vs_depth.png", who + ": tokens/s against depth (tokens)",
       [&](const Result& r) { return kind_n(r) + " b" + std::to_string(r.seqs) + " t" + std::to_string(r.threads); },
       [](const Result& r) { return (double)r.depth; }, tps);
  plot("tokens_per_s_vs_seqs.png", who + ": tokens/s against sequences",
       [&](const Result& r) { return kind_n(r) + " d" + std::to_string(r.depth) + " t" + std::to_string(r.threads); },
       [](const Result& r) { return (double)r.seqs; }, tps);
  plot("state_mib_vs_context.png", who + ": state MiB per sequence against context (tokens)",
       [&](const Result& r) { return kind_n(r) + " t" + std::to_string(r.threads); },
       [](const Result& r) { return (double)(r.depth + r.n); },
       [](const Result& r) { return r.state_bytes / kMiB / r.seqs; });
  return written;
}

}  // namespace llamba::bench
