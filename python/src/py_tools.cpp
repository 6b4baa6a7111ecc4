// llamba._llamba's module functions: convert, quantize, eval_perplexity, read_text_file — the library calls
// behind `llamba convert`, `llamba quantize` and `llamba eval perplexity`, returning dicts.
#include <pybind11/stl.h>

#include "core/thread_pool.h"
#include "eval/perplexity.h"
#include "io/xz.h"
#include "models/convert.h"
#include "py_model.h"
#include "quantize/quantize_model.h"

namespace llamba::python {

namespace {

int64_t convert(const std::string& hf_dir, const std::string& out, const std::string& outtype,
                const std::string& name, const std::string& tokenizer, bool for_training) {
  models::ConvertOptions o;
  o.name = name;
  o.training = for_training;
  if (outtype != "auto" && !core::dtype_from_name(outtype, &o.matrix_type))
    throw py::value_error("outtype '" + outtype + "': not one of auto, f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1");
  py::gil_scoped_release nogil;
  return models::convert_hf_file(hf_dir, out, o, tokenizer);
}

py::dict quantize(const std::string& in, const std::string& out, const std::string& type,
                  const std::string& output_type, const std::string& embedding_type,
                  const std::vector<std::string>& keep, bool pure, bool leave_output, int threads, bool progress) {
  quantize::QuantizeOptions o;
  const auto ft = quantize::file_type_from_name(type);
  if (!ft) throw py::value_error("unknown quantization type '" + type + "' (types: " + quantize::file_type_names() + ")");
  o.type = *ft;
  o.output_type = quantize::writable_type("output_type", output_type);
  o.embedding_type = quantize::writable_type("embedding_type", embedding_type);
  o.keep = keep;
  o.pure = pure;
  o.leave_output = leave_output;
  if (threads < 0) throw py::value_error("threads must be >= 0 (0: one per core)");
  quantize::QuantizeReport r;
  {
    py::gil_scoped_release nogil;
    core::ThreadPool pool(threads);
    r = quantize::quantize_model(pool, in, out, o, progress);
  }
  py::dict types;
  for (const auto& p : r.plan) types[py::str(p.name)] = std::string(core::dtype_name(p.to));
  py::dict d;
  d["tensors"] = types;
  d["n_elements"] = r.n_elements;
  d["bytes_in"] = r.bytes_in;
  d["bytes_out"] = r.bytes_out;
  d["n_fallback"] = r.n_fallback;
  d["seconds"] = r.seconds;
  return d;
}

py::dict value_error_dict(const eval::ValueError& v) {
  py::dict d;
  d["value"] = v.value;
  d["error"] = v.error;
  return d;
}

py::dict eval_perplexity(PyModel& pm, const std::string& text, int64_t ctx, int64_t chunks, int64_t batch,
                         const std::shared_ptr<PyModel>& base, bool progress) {
  eval::PerplexityOptions o;
  o.ctx = ctx;
  o.chunks = chunks;
  o.batch = batch;
  o.progress = progress;
  eval::PerplexityResult r;
  {
    py::gil_scoped_release nogil;
    if (base) eval::require_same_tokenizer(pm.tok(), base->tok(), base->path());
    auto lease = pm.lease();
    r = eval::evaluate_perplexity(lease.ctx(), pm.model(), pm.tok(), text, o, base ? &base->model() : nullptr);
  }
  py::dict d;
  d["ppl"] = value_error_dict(r.ppl);
  d["ctx"] = r.ctx;
  d["chunks"] = r.n_chunks;
  d["text_tokens"] = r.n_text_tokens;
  d["scored_tokens"] = r.count;
  d["add_bos"] = r.add_bos;
  d["running"] = r.running;
  d["forward_seconds"] = r.forward_seconds;
  d["tokens_per_second"] = r.tokens_per_second();
  if (r.kl) {
    const eval::KlStats& k = *r.kl;
    py::dict kl;
    kl["mean"] = value_error_dict(k.mean_kl);
    kl["median"] = k.median_kl;
    kl["p90"] = k.p90_kl;
    kl["p99"] = k.p99_kl;
    kl["max"] = k.max_kl;
    kl["same_top"] = value_error_dict(k.same_top);
    kl["ppl_base"] = value_error_dict(k.ppl_base);
    kl["ln_ppl_ratio"] = value_error_dict(k.log_ppl_ratio);
    d["kl"] = kl;
  }
  return d;
}

}  // namespace

void bind_tools(py::module_& m) {
  m.def("convert", &convert, py::arg("hf_dir"), py::arg("out"), py::arg("outtype"), py::arg("name"),
        py::arg("tokenizer"), py::arg("for_training"));
  m.def("quantize", &quantize, py::arg("input"), py::arg("output"), py::arg("type"), py::arg("output_type"),
        py::arg("embedding_type"), py::arg("keep"), py::arg("pure"), py::arg("leave_output"), py::arg("threads"),
        py::arg("progress"));
  m.def("eval_perplexity", &eval_perplexity, py::arg("model"), py::arg("text"), py::arg("ctx"), py::arg("chunks"),
        py::arg("batch"), py::arg("base"), py::arg("progress"));
  m.def("read_text_file", [](const std::string& path) {
    std::string s;
    {
      py::gil_scoped_release nogil;
      s = io::read_text_file(path);
    }
    return py::bytes(s);  // the exact bytes (`llamba eval` tokenizes them as they are)
  });
  m.def("default_model_path", [] { return runtime::resolve_model_path("", {LLAMBA_SOURCE_DIR}); });
}

}  // namespace llamba::python
