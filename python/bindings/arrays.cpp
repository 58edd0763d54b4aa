// Array arguments in (DLPack / buffer protocol, zero copy where dtype, layout and
// device fit; CUDA arrays through DLPack's stream handshake) and arrays out: NumPy
// arrays of host results, backend buffers handed over without a copy (docs/python.md,
// "Arrays").
#include "common.hpp"

#include <nanobind/stl/string.h>

#include <cmath>
#include <cstring>
#include <sstream>
#include <type_traits>

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

/// Every element of `a` in C order through `convert(complex<double>)`, read from
/// `base` (a.data(), or a host copy of a CUDA array's bytes).
template <class T, class Convert>
void gather(const any_array& a, const std::uint8_t* base, std::vector<T>& out, const char* name, Convert convert) {
  const std::size_t n = a.size(), nd = a.ndim(), item = a.itemsize();
  out.resize(n);
  std::vector<std::size_t> idx(nd, 0);
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

/// The values of `a` as T on the host: the caller's memory when `exact` (the dtype T
/// is stored as) and C-contiguous on the CPU, else a converted copy; a CUDA array is
/// copied to the host first (device_reader).
template <class T, class Convert>
host_values<T> host_values_of(array_arg& a, const char* name, bool exact, Convert convert) {
  host_values<T> h;
  for (std::size_t d = 0; d < a.ndim(); ++d) h.shape.push_back(a.shape(d));
  const std::uint8_t* base = static_cast<const std::uint8_t*>(a.data());
  std::vector<std::uint8_t> staged;
  if (a.on_cuda()) {
    if (!c_contiguous(a))
      raise(PyExc_ValueError, std::string(name) + ": a CUDA array must be C-contiguous to be read (e.g. "
                                                  "tensor.contiguous())");
    const context& reader = device_reader(a.device_id());
    a.ready_on(reader.stream());
    h.copied = true;
    if (exact) {
      h.copy = to_host(reader, static_cast<const T*>(a.data()), a.size());
      h.values = h.copy;
      return h;
    }
    staged = to_host(reader, static_cast<const std::uint8_t*>(a.data()), a.size() * a.itemsize());
    base = staged.data();
  } else if (a.device_type() != nb::device::cpu::value) {
    raise(PyExc_ValueError, std::string(name) + ": the array is on a device twofold cannot read (DLPack device "
                                                "type " + std::to_string(a.device_type()) +
                                "); pass a CPU or CUDA array");
  } else if (exact && c_contiguous(a)) {
    h.values = {reinterpret_cast<const T*>(base), a.size()};
    return h;
  }
  gather(a, base, h.copy, name, convert);
  h.values = h.copy;
  h.copied = true;
  return h;
}

template <class R>
host_values<R> real_values(array_arg& a, const char* name, code exact_code, std::uint8_t exact_bits) {
  const bool exact = a.dtype().code == static_cast<std::uint8_t>(exact_code) && a.dtype().bits == exact_bits;
  return host_values_of<R>(a, name, exact, [&](std::complex<double> v, std::size_t i) {
    if (v.imag() != 0)
      raise(PyExc_ValueError, std::string(name) + ": must be real (element " + std::to_string(i) +
                                  " has a non-zero imaginary part)");
    return static_cast<R>(v.real());
  });
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

void array_arg::ready_on(void* stream) {
  if (!on_cuda() || !source_.is_valid() || PyCapsule_CheckExact(source_.ptr()) || !nb::hasattr(source_, "__dlpack__"))
    return;
  const auto consumer = reinterpret_cast<std::uintptr_t>(stream);
  nb::object export_ = source_.attr("__dlpack__"), capsule;
  try {
    // A versioned capsule can say "read-only"; producers before DLPack 1.0 refuse the keyword.
    capsule = export_(nb::arg("stream") = consumer, nb::arg("max_version") = nb::make_tuple(1, 0));
  } catch (nb::python_error& e) {
    if (!e.matches(PyExc_TypeError)) throw;
    capsule = export_(nb::arg("stream") = consumer);
  }
  any_array fresh;
  if (!nb::try_cast(capsule, fresh))
    raise(PyExc_ValueError, "a CUDA array's __dlpack__(stream=...) returned something that is not a DLPack capsule");
  static_cast<any_array&>(*this) = std::move(fresh);
}

host_values<cfloat> complex_values(array_arg a, const char* name) {
  // cfloat is layout-compatible with complex<float>.
  return host_values_of<cfloat>(a, name, a.dtype() == nb::dtype<std::complex<float>>(),
                                [](std::complex<double> v, std::size_t) {
                                  return cfloat(static_cast<float>(v.real()), static_cast<float>(v.imag()));
                                });
}

host_values<float> float_values(array_arg a, const char* name) { return real_values<float>(a, name, code::Float, 32); }

host_values<double> double_values(array_arg a, const char* name) {
  return real_values<double>(a, name, code::Float, 64);
}

array_arg as_array(nb::handle obj, const char* name) {
  any_array a;
  if (nb::try_cast(obj, a)) return {std::move(a), nb::borrow(obj)};
  try {
    nb::object converted = nb::module_::import_("numpy").attr("asarray")(obj);
    if (nb::try_cast(converted, a)) return {std::move(a), converted};
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

batch_arg batch_in(const context& ctx, array_arg a, image_shape shape, const char* name) {
  batch_arg b;
  const std::size_t dims = shape_of(shape).size(), n = shape.pixels();
  b.single = a.ndim() == dims;
  if (!b.single && a.ndim() != dims + 1)
    raise(PyExc_ValueError, std::string(name) + ": must be one array of shape " + to_string(shape) +
                                " or a batch [chains, ...] of them");
  if (a.size() == 0 || a.size() % n != 0)
    raise(PyExc_ValueError, std::string(name) + ": size " + std::to_string(a.size()) + " is not a multiple of " +
                                to_string(shape));
  const std::size_t chains = a.size() / n;
  const bool on_backend = ctx.is_cuda() ? a.on_cuda() && a.device_id() == ctx.device()
                                        : a.device_type() == nb::device::cpu::value;
  if (on_backend && a.dtype() == nb::dtype<std::complex<float>>() && c_contiguous(a)) {
    a.ready_on(ctx.stream());
    b.view = {static_cast<const cfloat*>(a.data()), chains, shape};
    return b;
  }
  const auto v = complex_values(a, name);
  b.copy = to_backend(ctx, v.values, chains, shape);
  b.view = b.copy.view();
  return b;
}

namespace {

template <class T>
nb::object export_buffer(const context& ctx, buffer<T>&& b, const std::vector<std::size_t>& shape) {
  auto* heap = new buffer<T>(std::move(b));
  nb::capsule owner(heap, [](void* p) noexcept { delete static_cast<buffer<T>*>(p); });
  using element = std::conditional_t<std::is_same_v<T, cfloat>, std::complex<float>,
                                     std::conditional_t<std::is_same_v<T, cdouble>, std::complex<double>, T>>;
  const auto dtype = nb::dtype<element>();
  if (!ctx.is_cuda()) {
    nb::ndarray<nb::numpy> a(heap->data(), shape.size(), shape.data(), owner, nullptr, dtype);
    return nb::cast(a, nb::rv_policy::reference);
  }
  ctx.synchronize();  // complete before any stream of the caller reads it
  nb::ndarray<nb::array_api> a(heap->data(), shape.size(), shape.data(), owner, nullptr, dtype, nb::device::cuda::value,
                  ctx.device());
  return nb::cast(a, nb::rv_policy::reference);
}

}  // namespace

nb::object backend_array(const context& ctx, buffer<cdouble>&& b, std::vector<std::size_t> shape) {
  return export_buffer(ctx, std::move(b), shape);
}
nb::object backend_array(const context& ctx, buffer<double>&& b, std::vector<std::size_t> shape) {
  return export_buffer(ctx, std::move(b), shape);
}
nb::object backend_array(const context& ctx, buffer<cfloat>&& b, std::vector<std::size_t> shape) {
  return export_buffer(ctx, std::move(b), shape);
}

nb::object batch_out(const context& ctx, chain_buffer&& b, bool single) {
  auto shape = shape_of(b.shape);
  if (!single) shape.insert(shape.begin(), b.chains);
  return backend_array(ctx, std::move(b.storage), shape);
}

void bind_arrays(nb::module_& m) {
  m.def(
      "to_host",
      [](array_arg a) -> nb::object {
        if (a.device_type() == nb::device::cpu::value)
          return nb::module_::import_("numpy").attr("array")(nb::cast(static_cast<const any_array&>(a)),
                                                              nb::arg("copy") = true);
        if (!a.on_cuda())
          raise(PyExc_ValueError, "array: on a device twofold cannot read (DLPack device type " +
                                      std::to_string(a.device_type()) + ")");
        if (!c_contiguous(a)) raise(PyExc_ValueError, "array: a CUDA array must be C-contiguous to be copied");
        const context& reader = device_reader(a.device_id());
        a.ready_on(reader.stream());
        auto bytes = to_host(reader, static_cast<const std::uint8_t*>(a.data()), a.size() * a.itemsize());
        std::vector<std::size_t> shape;
        for (std::size_t d = 0; d < a.ndim(); ++d) shape.push_back(a.shape(d));
        return owning_array(std::move(bytes), shape, a.dtype());
      },
      nb::arg("array"),
      "A NumPy copy of any array (a CUDA array returned on the CUDA backend included), of the same dtype and "
      "shape. For device arrays the copy waits for the producer's pending work (DLPack's stream handshake).");
  m.def(
      "_input_address",
      [](array_arg a, const std::string& kind) -> std::uintptr_t {
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
  m.def(
      "_batch_address",
      [](array_arg a, const py_context* ctx) -> std::uintptr_t {
        if (a.ndim() < 2) raise(PyExc_ValueError, "array: must be a batch [chains, H, W] or one image [H, W]");
        const image_shape shape{a.shape(a.ndim() - 2), a.shape(a.ndim() - 1)};
        const auto c = resolve_context(ctx);
        const auto b = batch_in(*c, std::move(a), shape, "array");
        return b.copied() ? 0 : reinterpret_cast<std::uintptr_t>(b.view.data);
      },
      nb::arg("array"), nb::arg("ctx") = nb::none(),
      "For tests: the address the engine reads a chain batch `array` from on ctx (Operator.apply, Prior.denoise, "
      "...) when it uses the caller's memory, 0 when it copies it onto the backend first.");
  m.def(
      "_array_address",
      [](const any_array& a) {
        return nb::make_tuple(a.device_type(), a.device_id(), reinterpret_cast<std::uintptr_t>(a.data()));
      },
      nb::arg("array"), "For tests: (DLPack device type, device id, data address) of any array.");
}

}  // namespace twofold::python
