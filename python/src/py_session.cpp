// llamba._llamba.Session and State: one sequence's prefill, decode, logits, snapshots, forks, files and
// generation (runtime::generate, with the GIL released and held again only to hand a text piece to Python).
#include <pybind11/stl.h>

#include <cmath>

#include "py_model.h"
#include "runtime/generate.h"

namespace llamba::python {

PySession::PySession(std::shared_ptr<PyModel> model)
    : model_(std::move(model)),
      ctx_(std::make_unique<ops::Context>(model_->threads())),
      s_(std::make_unique<runtime::Session>(model_->model(), *ctx_)) {}

std::unique_lock<std::mutex> PySession::use(const char* what) {
  std::unique_lock<std::mutex> l(mu_, std::try_to_lock);
  if (!l.owns_lock())
    throw py::value_error(std::string("Session.") + what + ": the session is in use by another thread");
  return l;
}

namespace {

struct GenerateArgs {
  int64_t max_tokens = 256;
  float temperature = 0.8f, top_p = 0.95f, min_p = 0.05f, repeat_penalty = 1.0f;
  float presence_penalty = 0, frequency_penalty = 0;
  int32_t top_k = 40, repeat_last_n = 64;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  bool ignore_eos = false, consume_last = false;
};

void check_range(const char* name, double v, double lo, double hi) {
  if (!(v >= lo && v <= hi))
    throw py::value_error(std::string(name) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                          "], got " + std::to_string(v));
}

runtime::GenerateOptions options(const GenerateArgs& a) {
  if (a.max_tokens < -1) throw py::value_error("max_tokens must be >= 0 (or -1: until the end of generation)");
  check_range("temperature", a.temperature, 0, 100);
  check_range("top_p", a.top_p, 0, 1);
  check_range("min_p", a.min_p, 0, 1);
  check_range("repeat_penalty", a.repeat_penalty, 0.01, 100);
  check_range("presence_penalty", a.presence_penalty, -100, 100);
  check_range("frequency_penalty", a.frequency_penalty, -100, 100);
  check_range("top_k", a.top_k, 0, 1 << 24);
  check_range("repeat_last_n", a.repeat_last_n, -1, 1 << 24);
  for (const auto& s : a.stop)
    if (s.empty()) throw py::value_error("stop strings must not be empty");
  runtime::GenerateOptions o;
  o.max_tokens = a.max_tokens;
  o.ignore_eos = a.ignore_eos;
  o.stop = a.stop;
  o.sampling = {a.temperature, a.top_k, a.top_p, a.min_p, a.repeat_penalty, a.presence_penalty,
                a.frequency_penalty, a.repeat_last_n, a.seed};
  return o;
}

// Generates from the session's state after `prompt`; `on_text(str) -> bool` (or None) receives each piece.
// With consume_last the session also consumes the last generated token, so that it holds the whole
// continuation (not after an end-of-generation token, which is never fed, or at the context's end).
py::dict generate(PySession& ps, const py::handle& prompt, const GenerateArgs& a, const py::object& on_text) {
  auto in_use = ps.use("generate");
  const runtime::GenerateOptions o = options(a);
  const std::vector<int32_t> ids = token_ids(prompt, ps.model().model().info().n_vocab, "prompt");
  std::string text;
  runtime::GenerateStats st;
  {
    py::gil_scoped_release nogil;
    st = runtime::generate(ps.session(), ps.model().tok(), ids, o, [&](std::string_view piece) {
      text += piece;
      if (on_text.is_none()) return true;
      py::gil_scoped_acquire gil;
      return py::bool_(on_text(utf8(piece))).cast<bool>();
    });
    if (a.consume_last && !st.tokens.empty() && st.stop_reason != "eog" && st.stop_reason != "context")
      ps.session().decode(st.tokens.back());
  }
  py::dict d;
  d["text"] = utf8(text);
  d["tokens"] = st.tokens;
  d["stop_reason"] = st.stop_reason;
  d["n_prompt"] = st.n_prompt;
  d["n_generated"] = st.n_generated;
  d["prefill_s"] = st.prefill_s;
  d["decode_s"] = st.decode_s;
  return d;
}

void feed(PySession& ps, const py::handle& seq, const char* what) {
  auto in_use = ps.use(what);
  const models::ModelInfo& info = ps.model().model().info();
  const std::vector<int32_t> ids = token_ids(seq, info.n_vocab, "tokens");
  if (info.context_length > 0 && ps.session().n_past() + (int64_t)ids.size() > info.context_length)
    throw py::value_error(std::string("Session.") + what + ": " + std::to_string(ids.size()) + " tokens after " +
                          std::to_string(ps.session().n_past()) + " exceed the model's context of " +
                          std::to_string(info.context_length));
  py::gil_scoped_release nogil;
  ps.session().prefill(ids);
}

std::shared_ptr<PySession> fork(PySession& ps) {
  auto in_use = ps.use("fork");
  auto f = std::make_shared<PySession>(ps.model_ptr());
  f->session().restore(ps.session().snapshot());
  return f;
}

}  // namespace

void bind_session(py::module_& m) {
  py::class_<PyState, std::shared_ptr<PyState>>(m, "State")
      .def_property_readonly("n_past", [](const PyState& s) { return (int64_t)s.snap.tokens.size(); })
      .def_property_readonly("tokens", [](const PyState& s) { return s.snap.tokens; })
      .def_property_readonly("nbytes", [](const PyState& s) { return s.snap.state->bytes(); });

  py::class_<GenerateArgs>(m, "GenerateArgs")
      .def(py::init<>())
      .def_readwrite("max_tokens", &GenerateArgs::max_tokens)
      .def_readwrite("temperature", &GenerateArgs::temperature)
      .def_readwrite("top_k", &GenerateArgs::top_k)
      .def_readwrite("top_p", &GenerateArgs::top_p)
      .def_readwrite("min_p", &GenerateArgs::min_p)
      .def_readwrite("repeat_penalty", &GenerateArgs::repeat_penalty)
      .def_readwrite("presence_penalty", &GenerateArgs::presence_penalty)
      .def_readwrite("frequency_penalty", &GenerateArgs::frequency_penalty)
      .def_readwrite("repeat_last_n", &GenerateArgs::repeat_last_n)
      .def_readwrite("seed", &GenerateArgs::seed)
      .def_readwrite("stop", &GenerateArgs::stop)
      .def_readwrite("ignore_eos", &GenerateArgs::ignore_eos)
      .def_readwrite("consume_last", &GenerateArgs::consume_last)
      .def("check", [](const GenerateArgs& a) { options(a); });

  py::class_<PySession, std::shared_ptr<PySession>>(m, "Session")
      .def(py::init<std::shared_ptr<PyModel>>(), py::arg("model"))
      .def("prefill", [](PySession& ps, const py::handle& ids) { feed(ps, ids, "prefill"); })
      .def("step", [](PySession& ps, int64_t id) { feed(ps, py::make_tuple(id), "step"); })
      .def("logits_view",
           [](PySession& ps) {
             const auto l = ps.session().logits();
             if (l.empty()) throw py::value_error("Session.logits: nothing has been fed yet");
             return py::memoryview::from_buffer(const_cast<float*>(l.data()), {(py::ssize_t)l.size()}, {(py::ssize_t)sizeof(float)},
                                                true);
           })
      .def_property_readonly("tokens", [](PySession& ps) { return ps.session().tokens(); })
      .def_property_readonly("n_past", [](PySession& ps) { return ps.session().n_past(); })
      .def_property_readonly("state_bytes", [](PySession& ps) { return ps.session().state_bytes(); })
      .def("reset",
           [](PySession& ps) {
             auto in_use = ps.use("reset");
             ps.session().reset();
           })
      .def("state",
           [](PySession& ps) {
             auto in_use = ps.use("state");
             return std::make_shared<PyState>(PyState{ps.model_ptr(), ps.session().snapshot()});
           })
      .def("restore",
           [](PySession& ps, const PyState& s) {
             auto in_use = ps.use("restore");
             if (s.model != ps.model_ptr())
               throw py::value_error("Session.restore: the state belongs to another Model object (" +
                                     s.model->path() + "); restore it into a session of that model");
             ps.session().restore(s.snap);
           })
      .def("fork", &fork)
      .def(
          "save",
          [](PySession& ps, const std::string& path, const std::map<std::string, std::string>& notes) {
            auto in_use = ps.use("save");
            py::gil_scoped_release nogil;
            ps.session().save_state(path, notes);
          },
          py::arg("path"), py::arg("notes") = std::map<std::string, std::string>{})
      .def("load",
           [](PySession& ps, const std::string& path) {
             auto in_use = ps.use("load");
             py::gil_scoped_release nogil;
             return ps.session().load_state(path);
           })
      .def("generate", &generate, py::arg("prompt"), py::arg("args"), py::arg("on_text") = py::none());
}

}  // namespace llamba::python
