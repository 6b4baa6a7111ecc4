// The extension module `llamba._llamba`: llamba::Error becomes the Python exception llamba.Error (a
// RuntimeError) carrying the C++ message, which names the file, tensor or field.
#include <pybind11/pybind11.h>

#include "core/check.h"
#include "py_model.h"

PYBIND11_MODULE(_llamba, m) {
  m.doc() = "llamba's C++ runtime (use the `llamba` package, which wraps this module)";
  pybind11::register_exception<llamba::core::Error>(m, "Error", PyExc_RuntimeError);
  llamba::python::bind_model(m);
  llamba::python::bind_session(m);
  llamba::python::bind_tools(m);
}
