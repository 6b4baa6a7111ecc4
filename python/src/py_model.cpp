// llamba._llamba.Model: loading, tokenization, chat prompts and logits written straight into a caller's buffer.
#include "py_model.h"

#include <pybind11/stl.h>

#include "models/state.h"

namespace llamba::python {

PyModel::PyModel(const std::string& path, int threads)
    : path_(runtime::resolve_model_path(path, {LLAMBA_SOURCE_DIR})), threads_(threads) {
  if (threads < 0) throw py::value_error("threads must be >= 0 (0: one per core), got " + std::to_string(threads));
  lm_ = runtime::load(path_);
  tok_ = tokenizer::Tokenizer::from_gguf(*lm_.file);
}

PyModel::Lease PyModel::lease() {
  std::lock_guard<std::mutex> g(mu_);
  if (free_.empty()) return Lease(*this, std::make_unique<ops::Context>(threads_));
  auto c = std::move(free_.back());
  free_.pop_back();
  return Lease(*this, std::move(c));
}

PyModel::Lease::~Lease() {
  std::lock_guard<std::mutex> g(m_.mu_);
  m_.free_.push_back(std::move(c_));
}

py::str utf8(std::string_view s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), (Py_ssize_t)s.size(), "replace");
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(o);
}

std::vector<int32_t> token_ids(const py::handle& seq, int64_t n_vocab, const char* what) {
  if (py::isinstance<py::str>(seq) || py::isinstance<py::bytes>(seq) || !py::isinstance<py::sequence>(seq))
    throw py::type_error(std::string(what) + " must be a sequence of token ids (ints)");
  std::vector<int32_t> ids;
  ids.reserve(py::len(seq));
  for (const py::handle& h : seq) {
    const size_t i = ids.size();
    PyObject* index = PyNumber_Index(h.ptr());  // ints and NumPy integers; not floats or strings
    if (!index) {
      PyErr_Clear();
      throw py::type_error(std::string(what) + "[" + std::to_string(i) + "] is not an int");
    }
    int overflow = 0;
    const long long id = PyLong_AsLongLongAndOverflow(index, &overflow);
    Py_DECREF(index);
    if (overflow)
      throw py::value_error(std::string(what) + "[" + std::to_string(i) + "] is not a token id of this model");
    if (id < 0 || id >= n_vocab)
      throw py::value_error(std::string(what) + "[" + std::to_string(i) + "] = " + std::to_string(id) +
                            " is not a token id of this model (0 ... " + std::to_string(n_vocab - 1) + ")");
    ids.push_back((int32_t)id);
  }
  return ids;
}

namespace {

py::dict info(const PyModel& pm) {
  const models::ModelInfo& i = pm.model().info();
  py::dict d;
  d["path"] = pm.path();
  d["arch"] = std::string(models::arch_name(i.arch));
  d["name"] = i.name;
  d["n_vocab"] = i.n_vocab;
  d["d_model"] = i.d_model;
  d["n_layers"] = i.n_layers;
  d["context_length"] = i.context_length;
  d["recurrent"] = i.recurrent;
  d["n_params"] = pm.model().n_params();
  d["state_bytes"] = pm.model().state_bytes(i.context_length > 0 ? i.context_length : 0);
  d["bos_id"] = pm.tok().bos_id();
  d["eos_id"] = pm.tok().eos_id();
  d["add_bos"] = pm.tok().add_bos_default();
  d["threads"] = pm.threads();
  return d;
}

// Logits of `batch` rows of equal length T (ids row-major) into `out`: a writable C-contiguous float32 buffer of
// batch·T·V (all positions) or batch·V (last position) elements. The GIL is released while the model runs.
void logits_into(PyModel& pm, const py::handle& ids_seq, int64_t batch, const py::buffer& out, bool all) {
  const int64_t V = pm.model().info().n_vocab;
  const std::vector<int32_t> ids = token_ids(ids_seq, V, "ids");
  if (batch <= 0 || ids.empty() || ids.size() % batch != 0)
    throw py::value_error("ids: " + std::to_string(ids.size()) + " tokens do not make " + std::to_string(batch) +
                          " non-empty rows of equal length");
  const int64_t T = (int64_t)ids.size() / batch;
  const int64_t ctx_len = pm.model().info().context_length;
  if (ctx_len > 0 && T > ctx_len)
    throw py::value_error("ids: " + std::to_string(T) + " tokens per row exceed the model's context of " +
                          std::to_string(ctx_len));
  py::buffer_info b = out.request(true);
  const int64_t want = batch * (all ? T : 1) * V;
  if (b.format != py::format_descriptor<float>::format() || b.itemsize != 4 || b.size != want)
    throw py::value_error("out must be a float32 buffer of " + std::to_string(want) + " elements");
  int64_t stride = 4;
  for (int d = (int)b.ndim - 1; d >= 0; --d) {
    if (b.shape[d] != 1 && b.strides[d] != stride) throw py::value_error("out must be C-contiguous");
    stride *= b.shape[d];
  }
  const core::TensorView view = core::TensorView::contiguous(
      b.ptr, core::DType::kF32, all ? core::Shape{batch, T, V} : core::Shape{batch, V});
  py::gil_scoped_release nogil;
  models::FreshStates states(pm.model(), batch);
  models::ForwardOptions o;
  o.all_logits = all;
  auto lease = pm.lease();
  pm.model().forward(lease.ctx(), ids, batch, states.ptrs, view, o);
}

}  // namespace

void bind_model(py::module_& m) {
  py::class_<PyModel, std::shared_ptr<PyModel>>(m, "Model")
      .def(py::init([](const std::string& path, int threads) {
             py::gil_scoped_release nogil;
             return std::make_shared<PyModel>(path, threads);
           }),
           py::arg("path") = "", py::arg("threads") = 0)
      .def_property_readonly("path", &PyModel::path)
      .def("info", &info)
      .def(
          "tokenize",
          [](const PyModel& pm, const std::string& text, bool bos, bool special) {
            std::vector<int32_t> ids;
            {
              py::gil_scoped_release nogil;
              ids = pm.tok().encode(text, bos, special);
            }
            return ids;
          },
          py::arg("text"), py::arg("bos"), py::arg("special"))
      .def("detokenize",
           [](const PyModel& pm, const py::handle& ids) {
             return utf8(pm.tok().decode(token_ids(ids, pm.tok().vocab_size(), "ids")));
           })
      .def("token_bytes",
           [](const PyModel& pm, int64_t id) {
             token_ids(py::make_tuple(id), pm.tok().vocab_size(), "id");
             return py::bytes(std::string(pm.tok().token_bytes((int32_t)id)));
           })
      .def("is_eog", [](const PyModel& pm, int32_t id) { return pm.tok().is_eog(id); })
      .def(
          "chat_prompt",
          [](const PyModel& pm, const std::vector<std::pair<std::string, std::string>>& msgs, bool add_gen) {
            std::vector<tokenizer::ChatMessage> cm;
            for (const auto& [role, content] : msgs) cm.push_back({role, content});
            return pm.tok().apply_chat_template(cm, add_gen);
          },
          py::arg("messages"), py::arg("add_generation_prompt") = true)
      .def("logits_into", &logits_into, py::arg("ids"), py::arg("batch"), py::arg("out"), py::arg("all"));
}

}  // namespace llamba::python
