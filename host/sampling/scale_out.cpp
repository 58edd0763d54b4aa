// Shares of a design's runs as bytes, and how runs are split over processes
// (include/twofold/sampling/scale_out.hpp). Sampling and merging live in sample.cpp,
// beside the accumulators they share with sample().
#include <twofold/sampling/scale_out.hpp>

#include <twofold/core/error.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

namespace twofold {

std::pair<std::size_t, std::size_t> share_of(std::size_t runs, std::size_t processes, std::size_t rank) {
  TWOFOLD_EXPECTS(processes >= 1 && rank < processes, "share_of: rank " + std::to_string(rank) + " of " +
                                                          std::to_string(processes) + " processes");
  const std::size_t base = runs / processes, extra = runs % processes;
  const std::size_t first = rank * base + std::min(rank, extra);
  return {first, base + (rank < extra ? 1 : 0)};
}

namespace {

constexpr std::uint64_t share_tag = 0x31657261687374ull;  // "tshare1" with a version digit

struct writer {
  std::vector<std::byte> bytes;
  template <class T>
  void value(const T& v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  template <class T>
  void array(const std::vector<T>& v) {
    value(std::uint64_t(v.size()));
    const auto* p = reinterpret_cast<const std::byte*>(v.data());
    bytes.insert(bytes.end(), p, p + v.size() * sizeof(T));
  }
};

struct reader {
  std::span<const std::byte> bytes;
  std::size_t at = 0;
  void need(std::size_t n) const {
    TWOFOLD_EXPECTS(n <= bytes.size() - at, "deserialize_share: the bytes end inside the share (" +
                                                std::to_string(bytes.size()) + " bytes)");
  }
  template <class T>
  T value() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, bytes.data() + at, sizeof(T));
    at += sizeof(T);
    return v;
  }
  template <class T>
  std::vector<T> array() {
    const auto n = value<std::uint64_t>();
    TWOFOLD_EXPECTS(n <= (bytes.size() - at) / sizeof(T), "deserialize_share: an array runs past the end of the bytes");
    std::vector<T> v(n);
    std::memcpy(v.data(), bytes.data() + at, n * sizeof(T));
    at += n * sizeof(T);
    return v;
  }
};

}  // namespace

std::vector<std::byte> serialize(const run_share& share) {
  writer w;
  w.value(share_tag);
  for (const std::uint64_t v : {std::uint64_t(share.shape.height), std::uint64_t(share.shape.width),
                                std::uint64_t(share.shape.coils),
                                std::uint64_t(share.first_run), std::uint64_t(share.runs),
                                std::uint64_t(share.chains_per_run)})
    w.value(v);
  w.array(share.x);
  w.array(share.range);
  w.array(share.null);
  w.array(share.draws);
  const sample_report& r = share.report;
  w.array(std::vector<char>(r.device.begin(), r.device.end()));
  for (const std::uint64_t v : {std::uint64_t(r.runs), std::uint64_t(r.chains_per_run), std::uint64_t(r.chains),
                                std::uint64_t(r.steps_per_chain), std::uint64_t(r.waves), std::uint64_t(r.wave_chains)})
    w.value(v);
  w.value(r.seconds);
  w.value(r.chain_steps_per_second);
  return std::move(w.bytes);
}

run_share deserialize_share(std::span<const std::byte> bytes) {
  reader in{bytes};
  TWOFOLD_EXPECTS(in.value<std::uint64_t>() == share_tag, "deserialize_share: the bytes are not a twofold run share");
  run_share s;
  s.shape.height = in.value<std::uint64_t>();
  s.shape.width = in.value<std::uint64_t>();
  s.shape.coils = in.value<std::uint64_t>();
  s.first_run = in.value<std::uint64_t>();
  s.runs = in.value<std::uint64_t>();
  s.chains_per_run = in.value<std::uint64_t>();
  s.x = in.array<double>();
  s.range = in.array<double>();
  s.null = in.array<double>();
  s.draws = in.array<cfloat>();
  const auto device = in.array<char>();
  s.report.device.assign(device.begin(), device.end());
  s.report.runs = in.value<std::uint64_t>();
  s.report.chains_per_run = in.value<std::uint64_t>();
  s.report.chains = in.value<std::uint64_t>();
  s.report.steps_per_chain = in.value<std::uint64_t>();
  s.report.waves = in.value<std::uint64_t>();
  s.report.wave_chains = in.value<std::uint64_t>();
  s.report.seconds = in.value<double>();
  s.report.chain_steps_per_second = in.value<double>();
  TWOFOLD_EXPECTS(in.at == bytes.size(), "deserialize_share: " + std::to_string(bytes.size() - in.at) +
                                             " bytes follow the share");
  return s;
}

}  // namespace twofold
