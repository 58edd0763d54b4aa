#pragma once
/// \file
/// The execution context: which backend runs the work, the CUDA stream, and the
/// lazily created, shape-cached FFT plans and BLAS handles. Nothing here touches
/// CUDA before a `cuda` context is constructed, so every binary starts on a
/// machine with no driver.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace twofold {

enum class backend_kind { cpu, cuda };

/// What the caller asks for; `automatic` picks CUDA when a device is usable.
enum class backend_request { automatic, cpu, cuda };

/// Parses "auto", "cpu" or "cuda"; throws bad_input naming `what` otherwise.
backend_request parse_backend(std::string_view text, std::string_view what = "backend");
std::string_view to_string(backend_kind kind);

/// True when this build has the CUDA backend and a driver with at least one device.
bool cuda_usable() noexcept;

/// The CUDA devices this process sees (0 without a CUDA build, driver or device):
/// a process of a scale-out job picks one by its rank on the node.
int cuda_device_count() noexcept;

/// Why CUDA is not usable here (empty when it is).
std::string cuda_unavailable_reason();

namespace detail {
class fft_engine;
class blas_engine;
/// A CUDA stream and its device (host/core/context.cpp). The context and every buffer
/// allocated on it share it: a buffer frees its memory stream-ordered on the stream it
/// was allocated on, so the stream lives until the last such buffer is gone.
struct device_stream;
/// Grow-only backend scratch of the context's reductions (host/backend/device_scratch.hpp).
struct device_scratch;
}

class context {
 public:
  /// Selects the backend. `cuda` on a build or machine without a usable device
  /// throws device_failure with the reason; `automatic` falls back to the CPU.
  explicit context(backend_request request = backend_request::automatic, int device = 0);
  ~context();
  context(context&&) noexcept;
  context& operator=(context&&) noexcept;
  context(const context&) = delete;
  context& operator=(const context&) = delete;

  backend_kind backend() const noexcept;
  bool is_cuda() const noexcept { return backend() == backend_kind::cuda; }
  /// The CUDA device ordinal this context runs on (-1 on the CPU).
  int device() const noexcept;
  /// "cpu: <model>, N threads" or the CUDA device name.
  std::string device_name() const;
  /// The CUDA stream (a `cudaStream_t`) every asynchronous call uses; null on the CPU.
  /// Also makes the context's device current on the calling thread (bind_device).
  void* stream() const noexcept;
  /// Makes this context's device current on the calling thread when it is not (CUDA;
  /// nothing on the CPU). Every CUDA call of the library does it first, so a context
  /// may be used from any thread, also on a device other than 0.
  void bind_device() const noexcept;
  /// Blocks until all work queued on this context has finished.
  void synchronize() const;
  /// Bytes this backend can still allocate for chain state (device free memory
  /// on CUDA, a fraction of physical memory on the CPU).
  std::size_t available_memory() const;

  /// The stream's shared owner (null on the CPU): buffers keep it (see buffer.hpp).
  const std::shared_ptr<detail::device_stream>& stream_owner() const noexcept;
  /// Scratch the backend's reductions reuse across calls, grown on first use (never
  /// shrunk), so that they allocate nothing per call once warm.
  detail::device_scratch& scratch() const;

  /// The backend's FFT engine, created on first use; plans cached by shape.
  detail::fft_engine& fft() const;
  detail::blas_engine& blas() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace twofold
