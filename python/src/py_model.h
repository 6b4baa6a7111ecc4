// The objects the Python module wraps: a loaded model with its tokenizer and a pool of execution contexts, and
// a session (one sequence) over it. Thin: every computation is the C++ runtime's own.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ops/context.h"
#include "runtime/model_file.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

namespace llamba::python {

namespace py = pybind11;

// A model shared by every Python thread that uses it. Model and tokenizer are immutable; a context (thread pool)
// runs one op at a time, so each call borrows one of its own from `contexts`.
class PyModel {
 public:
  PyModel(const std::string& path, int threads);
  const std::string& path() const { return path_; }
  int threads() const { return threads_; }
  const models::Model& model() const { return *lm_.model; }
  const tokenizer::Tokenizer& tok() const { return *tok_; }

  // A context borrowed for one call and returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(PyModel& m, std::unique_ptr<ops::Context> c) : m_(m), c_(std::move(c)) {}
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ops::Context& ctx() { return *c_; }

   private:
    PyModel& m_;
    std::unique_ptr<ops::Context> c_;
  };
  Lease lease();

 private:
  std::string path_;
  int threads_;
  runtime::LoadedModel lm_;
  std::unique_ptr<tokenizer::Tokenizer> tok_;
  std::mutex mu_;
  std::vector<std::unique_ptr<ops::Context>> free_;
};

// One sequence. Its own context (the model's thread count); a mutex refuses use from two threads at once.
class PySession {
 public:
  explicit PySession(std::shared_ptr<PyModel> model);
  PyModel& model() const { return *model_; }
  const std::shared_ptr<PyModel>& model_ptr() const { return model_; }
  runtime::Session& session() { return *s_; }
  // Held during every call; throws when another thread holds it.
  std::unique_lock<std::mutex> use(const char* what);

 private:
  std::shared_ptr<PyModel> model_;
  std::unique_ptr<ops::Context> ctx_;
  std::unique_ptr<runtime::Session> s_;
  std::mutex mu_;
};

// A snapshot of a session, restorable into any session of the same model.
struct PyState {
  std::shared_ptr<PyModel> model;
  runtime::Snapshot snap;
};

// Text for Python: the bytes as UTF-8, invalid sequences replaced by U+FFFD.
py::str utf8(std::string_view s);
// Token ids from a Python sequence of ints, each checked against the vocabulary (ValueError naming the index).
std::vector<int32_t> token_ids(const py::handle& seq, int64_t n_vocab, const char* what);

void bind_model(py::module_& m);
void bind_session(py::module_& m);
void bind_tools(py::module_& m);

}  // namespace llamba::python
