// Array arguments in (DLPack / buffer protocol, zero copy where dtype, layout and
// device fit) and NumPy arrays out (docs/python.md, "Arrays").
#include "common.hpp"

#include <nanobind/stl/string.h>

#include <cmath>
#include <cstring>
#include <sstream>

namespace twofold::python {

namespace {

using code = nb::dlpack::dtype_code;

std::string dtype_text(nb::dlpack::dtype t) {
  const char* kind = "?";
  switch (static_cast<code>(t.code)) {
    case code::Int: kind = "int"; break;
    case code::UInt: kind = "uint"; break;
    case code::Float: kind = "float"; break;
    case code::Complex: kind = "complex"; break;
    case code::Bool: return "bool";
    default: kind = "unsupported"; break;
  }
  return std::string(kind) + std::to_string(t.bits);
}

std::string shape_text(const any_array& a) {
  std::ostringstream s;
  s << "[";
  for (std::size_t d = 0; d < a.ndim(); ++d) s << (d ? ", " : "") << a.shape(d);
  s << "]";
  return s.str();
}

/// One element of any supported dtype as a complex double.
std::complex<double> read_element(const std::uint8_t* p, nb::dlpack::dtype t, const char* name) {
  const auto c = static_cast<code>(t.code);
  auto load = [p]<class T>(T) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  };
  if (c == code::Float && t.bits == 32) return load(float{});
  if (c == code::Float && t.bits == 64) return load(double{});
  if (c == code::Complex && t.bits == 64) return load(std::complex<float>{});
  if (c == code::Complex && t.bits == 128) return load(std::complex<double>{});
  if (c == code::Int && t.bits == 8) return double(load(std::int8_t{}));
  if (c == code::Int && t.bits == 16) return double(load(std::int16_t{}));
  if (c == code::Int && t.bits == 32) return double(load(std::int32_t{}));
  if (c == code::Int && t.bits == 64) return double(load(std::int64_t{}));
  if (c == code::UInt && t.bits == 8) return double(load(std::uint8_t{}));
  if (c == code::UInt && t.bits == 16) return double(load(std::uint16_t{}));
  if (c == code::UInt && t.bits == 32) return double(load(std::uint32_t{}));
  if (c == code::UInt && t.bits == 64) return double(load(std::uint64_t{}));
  if (c == code::Bool && t.bits == 8) return load(std::uint8_t{}) ? 1.0 : 0.0;
  raise(PyExc_ValueError, std::string(name) + ": unsupported dtype " + dtype_text(t) +
                              " (use a float, complex, integer or bool array)");
}

bool c_contiguous(const any_array& a) {
  std::int64_t expected = 1;
  for (std::size_t d = a.ndim(); d-- > 0;) {
    if (a.shape(d) != 1 && a.stride(d) != expected) return false;
    expected *= static_cast<std::int64_t>(a.shape(d));
  }
  return true;
}

void expect_host(const any_array& a, const char* name) {
  if (a.device_type() != nb::device::cpu::value)
    raise(PyExc_ValueError, std::string(name) + ": the array is on a device (DLPack device type " +
                                std::to_string(a.device_type()) +
                                "); operators, problems and priors read their inputs on the host: pass a CPU "
                                "array (e.g. tensor.cpu())");
}

/// Every element of `a` in C order through `convert(complex<double>)`.
template <class T, class Convert>
void gather(const any_array& a, std::vector<T>& out, const char* name, Convert convert) {
  const std::size_t n = a.size(), nd = a.ndim(), item = a.itemsize();
  out.resize(n);
  std::vector<std::size_t> idx(nd, 0);
  const auto* base = static_cast<const std::uint8_t*>(a.data());
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t offset = 0;
    for (std::size_t d = 0; d < nd; ++d) offset += static_cast<std::int64_t>(idx[d]) * a.stride(d);
    out[i] = convert(read_element(base + offset * static_cast<std::int64_t>(item), a.dtype(), name), i);
    for (std::size_t d = nd; d-- > 0;) {
      if (++idx[d] < a.shape(d)) break;
      idx[d] = 0;
    }
  }
}

template <class T>
host_values<T> start(const any_array& a, const char* name) {
  expect_host(a, name);
  host_values<T> h;
  for (std::size_t d = 0; d < a.ndim(); ++d) h.shape.push_back(a.shape(d));
  return h;
}

template <class R>
host_values<R> real_values(const any_array& a, const char* name, code exact_code, std::uint8_t exact_bits) {
  auto h = start<R>(a, name);
  if (a.dtype().code == static_cast<std::uint8_t>(exact_code) && a.dtype().bits == exact_bits && c_contiguous(a)) {
    h.values = {static_cast<const R*>(a.data()), a.size()};
    return h;
  }
  gather(a, h.copy, name, [&](std::complex<double> v, std::size_t i) {
    if (v.imag() != 0)
      raise(PyExc_ValueError, std::string(name) + ": must be real (element " + std::to_string(i) +
                                  " has a non-zero imaginary part)");
    return static_cast<R>(v.real());
  });
  h.values = h.copy;
  h.copied = true;
  return h;
}

template <class T>
nb::object owning_array(std::vector<T>&& v, const std::vector<std::size_t>& shape, nb::dlpack::dtype dtype) {
  auto* heap = new std::vector<T>(std::move(v));
  nb::capsule owner(heap, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  nb::ndarray<nb::numpy> a(heap->data(), shape.size(), shape.data(), owner, nullptr, dtype);
  return nb::cast(a, nb::rv_policy::reference);
}

}  // namespace

[[noreturn]] void raise(PyObject* type, const std::string& message) {
  PyErr_SetString(type, message.c_str());
  throw nb::python_error();
}

host_values<cfloat> complex_values(const any_array& a, const char* name) {
  auto h = start<cfloat>(a, name);
  if (a.dtype() == nb::dtype<std::complex<float>>() && c_contiguous(a)) {
    h.values = {static_cast<const cfloat*>(a.data()), a.size()};  // cfloat is layout-compatible with complex<float>
    return h;
  }
  gather(a, h.copy, name, [](std::complex<double> v, std::size_t) {
    return cfloat(static_cast<float>(v.real()), static_cast<float>(v.imag()));
  });
  h.values = h.copy;
  h.copied = true;
  return h;
}

host_values<float> float_values(const any_array& a, const char* name) {
  return real_values<float>(a, name, code::Float, 32);
}

host_values<double> double_values(const any_array& a, const char* name) {
  return real_values<double>(a, name, code::Float, 64);
}

any_array as_array(nb::handle obj, const char* name) {
  any_array a;
  if (nb::try_cast(obj, a)) return a;
  try {
    nb::object converted = nb::module_::import_("numpy").attr("asarray")(obj);
    if (nb::try_cast(converted, a)) return a;
  } catch (nb::python_error&) {
  }
  raise(PyExc_ValueError, std::string(name) + ": must be an array or a sequence of numbers (got " +
                              nb::type_name(obj.type()).c_str() + ")");
}

void expect_ndim(const any_array& a, const char* name, std::initializer_list<std::size_t> allowed) {
  for (std::size_t n : allowed)
    if (a.ndim() == n) return;
  std::string want;
  for (std::size_t n : allowed) want += (want.empty() ? "" : " or ") + std::to_string(n);
  raise(PyExc_ValueError, std::string(name) + ": must have " + want + " dimensions (got shape " + shape_text(a) + ")");
}

bool is_numpy_array(PyObject* o) { return PyObject_HasAttrString(o, "dtype") && PyObject_HasAttrString(o, "shape"); }

float64_array numpy_array(std::vector<double>&& v, std::vector<std::size_t> shape) {
  return nb::borrow<float64_array>(owning_array(std::move(v), shape, nb::dtype<double>()));
}
float32_array numpy_array(std::vector<float>&& v, std::vector<std::size_t> shape) {
  return nb::borrow<float32_array>(owning_array(std::move(v), shape, nb::dtype<float>()));
}
complex128_array numpy_array(std::vector<cdouble>&& v, std::vector<std::size_t> shape) {
  return nb::borrow<complex128_array>(owning_array(std::move(v), shape, nb::dtype<std::complex<double>>()));
}
complex64_array numpy_array(std::vector<cfloat>&& v, std::vector<std::size_t> shape) {
  return nb::borrow<complex64_array>(owning_array(std::move(v), shape, nb::dtype<std::complex<float>>()));
}
std::optional<float64_array> numpy_or_none(std::vector<double>&& v, std::vector<std::size_t> shape) {
  if (v.empty()) return std::nullopt;
  return numpy_array(std::move(v), std::move(shape));
}

std::vector<std::size_t> shape_of(image_shape s) {
  if (s.coils > 1) return {s.coils, s.height, s.width};
  if (s.height == 1) return {s.width};
  return {s.height, s.width};
}

field parse_field(const std::string& text, const char* name) {
  if (text == "complex") return field::complex;
  if (text == "real") return field::real;
  raise(PyExc_ValueError, std::string(name) + ": must be 'complex' or 'real' (got '" + text + "')");
}

/// A batch [chains, shape] (or one image [shape]) as a chain buffer on ctx.
chain_buffer batch_in(const context& ctx, const any_array& a, image_shape shape, const char* name,
                      bool& single) {
  const auto v = complex_values(a, name);
  const std::size_t dims = shape_of(shape).size();
  single = a.ndim() == dims;
  if (!single && a.ndim() != dims + 1)
    raise(PyExc_ValueError, std::string(name) + ": must be one array of shape " + to_string(shape) +
                                " or a batch [chains, ...] of them");
  const std::size_t n = shape.pixels();
  if (v.size() == 0 || v.size() % n != 0)
    raise(PyExc_ValueError, std::string(name) + ": size " + std::to_string(v.size()) + " is not a multiple of " +
                                to_string(shape));
  return to_backend(ctx, v.values, v.size() / n, shape);
}

complex64_array batch_out(const context& ctx, const chain_buffer& b, bool single) {
  auto shape = shape_of(b.shape);
  if (!single) shape.insert(shape.begin(), b.chains);
  return numpy_array(to_host(ctx, b.view()), shape);
}

void bind_arrays(nb::module_& m) {
  m.def(
      "_input_address",
      [](const any_array& a, const std::string& kind) -> std::uintptr_t {
        if (kind == "complex") {
          const auto h = complex_values(a, "array");
          return reinterpret_cast<std::uintptr_t>(h.values.data()) * (h.copied ? 0 : 1);
        }
        const auto h = float_values(a, "array");
        return reinterpret_cast<std::uintptr_t>(h.values.data()) * (h.copied ? 0 : 1);
      },
      nb::arg("array"), nb::arg("kind") = "complex",
      "For tests: the address the library reads `array` from when it is used without a copy, 0 when it is "
      "converted (copied) first. kind: 'complex' (complex64 inputs) or 'real' (float32 inputs).");
}

}  // namespace twofold::python
