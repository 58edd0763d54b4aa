#include "run/checkpoint.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace twofold::cli {
namespace {

constexpr std::string_view magic = "twofold checkpoint 1\n";

/// FNV-1a, 64 bits, over a file's bytes (a fingerprint against accidents, not attacks).
std::uint64_t hash_file(const std::filesystem::path& path, std::uint64_t h = 14695981039346656037ull) {
  std::ifstream in(path, std::ios::binary);
  TWOFOLD_EXPECTS(in.good(), "could not read " + path.string() + " to fingerprint the run");
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), std::streamsize(chunk.size()));
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(chunk[std::size_t(i)]);
      h *= 1099511628211ull;
    }
  }
  return h;
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string content_hash(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(path)) return hex(hash_file(path));
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(path))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::uint64_t h = 14695981039346656037ull;
  for (const auto& f : files) {
    for (const char c : fs::relative(f, path).string()) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ull;
    }
    h = hash_file(f, h);
  }
  return hex(h);
}

template <class T>
std::span<const std::byte> bytes_of(const T& v) {
  return std::as_bytes(std::span<const T>(&v, 1));
}

template <class T>
std::span<const std::byte> bytes_of(const std::vector<T>& v) {
  return std::as_bytes(std::span<const T>(v));
}

}  // namespace

run_fingerprint fingerprint_of(const CLI::App& cmd, const std::vector<std::string>& ignored,
                               const std::vector<std::string>& inputs, const std::string& device) {
  run_fingerprint f;
  for (const CLI::Option* opt : cmd.get_options()) {
    const std::string name = opt->get_name(false, true);
    if (name.empty() || name.rfind("--", 0) != 0) continue;
    const std::string flag = name.substr(0, name.find(','));
    if (flag == "--help" || std::find(ignored.begin(), ignored.end(), flag) != ignored.end()) continue;
    std::string value;
    if (opt->count() > 0) {
      for (const auto& r : opt->results()) value += (value.empty() ? "" : " ") + r;
      if (opt->get_type_size() == 0 && value.empty()) value = "true";  // a flag given
    } else {
      value = opt->get_default_str();
    }
    f[flag] = value;
  }
  for (const auto& path : inputs)
    if (!path.empty()) f["content of " + path] = content_hash(path);
  f["device"] = device;
  return f;
}

std::filesystem::path checkpoint_path(const std::string& out) {
  std::error_code ec;
  std::filesystem::path target = std::filesystem::absolute(out, ec).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();
  return target.parent_path() / ("." + target.filename().string() + ".twofold-checkpoint");
}

void write_checkpoint(const std::filesystem::path& path, const run_fingerprint& fingerprint,
                      const sample_checkpoint& state) {
  const std::string settings = nlohmann::json(fingerprint).dump();
  const std::uint64_t sizes[] = {settings.size(), state.stage, state.next_chain, state.anchors.size(),
                                 state.accumulators.size(), state.draws.size()};
  const std::span<const std::byte> parts[] = {
      std::as_bytes(std::span<const char>(magic.data(), magic.size())),
      std::as_bytes(std::span<const std::uint64_t>(sizes)),
      std::as_bytes(std::span<const char>(settings.data(), settings.size())),
      bytes_of(state.anchors),
      bytes_of(state.accumulators),
      bytes_of(state.draws)};
  io::write_file_atomically(path, parts);
}

std::optional<sample_checkpoint> read_checkpoint(const std::filesystem::path& path, const run_fingerprint& expected) {
  std::ifstream in(path, std::ios::binary);
  if (!in.good()) return std::nullopt;
  const std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string what = "--resume: " + path.string();
  std::size_t at = 0;
  const auto take = [&](void* out, std::size_t bytes) {
    TWOFOLD_EXPECTS(bytes <= data.size() - at, what + " ends early: not a complete twofold checkpoint");
    if (bytes > 0) std::memcpy(out, data.data() + at, bytes);
    at += bytes;
  };
  TWOFOLD_EXPECTS(data.size() >= magic.size() && std::string_view(data.data(), magic.size()) == magic,
                  what + " is not a twofold checkpoint (or one of another version)");
  at = magic.size();
  std::uint64_t sizes[6];
  take(sizes, sizeof sizes);
  TWOFOLD_EXPECTS(sizes[0] <= data.size() - at, what + " ends early: not a complete twofold checkpoint");
  std::string settings(sizes[0], '\0');
  take(settings.data(), settings.size());
  run_fingerprint made;
  try {
    made = nlohmann::json::parse(settings).get<run_fingerprint>();
  } catch (const nlohmann::json::exception&) {
    TWOFOLD_EXPECTS(false, what + " holds unreadable settings: not a twofold checkpoint");
  }
  std::string differs;
  std::size_t count = 0;
  const auto note = [&](const std::string& text) {
    if (++count <= 8) differs += (differs.empty() ? "" : "; ") + text;
  };
  const auto is_content = [](const std::string& key) { return key.rfind("content of ", 0) == 0; };
  for (const auto& [key, value] : expected) {
    const auto it = made.find(key);
    if (is_content(key)) {
      if (it == made.end()) note("the input " + key.substr(11) + " was not read then");
      else if (it->second != value) note("the input " + key.substr(11) + " changed");
    } else if (it == made.end()) {
      note(key + " was not a setting then");
    } else if (it->second != value) {
      note(key + " was '" + it->second + "', is '" + value + "'");
    }
  }
  for (const auto& [key, value] : made)
    if (!expected.count(key))
      note(is_content(key) ? "the input " + key.substr(11) + " is no longer read" : key + " is no longer a setting");
  TWOFOLD_EXPECTS(count == 0, what + " was made by a run with other settings or inputs: " + differs +
                                  (count > 8 ? "; and " + std::to_string(count - 8) + " more" : "") +
                                  ". Rerun with the same ones, or without --resume to start over");
  sample_checkpoint c;
  c.stage = static_cast<std::uint32_t>(sizes[1]);
  c.next_chain = sizes[2];
  const auto array = [&](auto& v, std::uint64_t n) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    TWOFOLD_EXPECTS(n <= (data.size() - at) / sizeof(T), what + " ends early: not a complete twofold checkpoint");
    v.resize(n);
    take(v.data(), n * sizeof(T));
  };
  array(c.anchors, sizes[3]);
  array(c.accumulators, sizes[4]);
  array(c.draws, sizes[5]);
  TWOFOLD_EXPECTS(at == data.size(), what + " has " + std::to_string(data.size() - at) + " bytes too many");
  return c;
}

namespace {
/// Settings that do not change a run's results: a checkpoint made with other values
/// of these still continues the run.
const std::vector<std::string> settings_without_effect{"--out",    "--force", "--no-report", "--checkpoint",
                                                        "--resume", "--debug", "--mpi"};
}  // namespace

void add_checkpoint_options(CLI::App& cmd, checkpoint_options& o) {
  cmd.add_option("--checkpoint", o.seconds,
                 "every SECONDS (at the end of a wave), save the run's state to .<out>.twofold-checkpoint beside "
                 "--out, so that --resume can continue it after a kill (0: after every wave)")
      ->check(number_in(0, 1e9, false, false));
  cmd.add_flag("--resume", o.resume,
               "continue from the checkpoint beside --out (same command line and inputs, else refused; none: start "
               "from the beginning); the outputs are bit-identical to an uninterrupted run's");
}

run_checkpoints::run_checkpoints(const checkpoint_options& o, const std::string& out, const CLI::App& cmd,
                                 const std::vector<std::string>& inputs, const context& ctx,
                                 const std::string& command)
    : options_(o), file_(checkpoint_path(out)) {
  if (!o.active()) return;
  fingerprint_ = fingerprint_of(cmd, settings_without_effect, inputs, ctx.is_cuda() ? ctx.device_name() : "cpu");
  if (!o.resume) return;
  resume_from_ = read_checkpoint(file_, fingerprint_);
  if (resume_from_)
    std::fprintf(stderr, "%s: resuming from %s (stage %u, chain %zu)\n", command.c_str(), file_.c_str(),
                 resume_from_->stage, resume_from_->next_chain);
  else
    std::fprintf(stderr, "%s: no checkpoint at %s; starting from the beginning\n", command.c_str(), file_.c_str());
}

checkpoint_params run_checkpoints::params() const {
  checkpoint_params p;
  if (options_.seconds >= 0) {
    p.every_seconds = options_.seconds;
    p.save = [this](const sample_checkpoint& state) { write_checkpoint(file_, fingerprint_, state); };
  }
  if (resume_from_) p.resume = &*resume_from_;
  return p;
}

void run_checkpoints::remove() const noexcept {
  if (file_.empty()) return;
  std::error_code ec;
  std::filesystem::remove(file_, ec);
  for (const char* suffix : {".npy", ".cfl", ".hdr"}) std::filesystem::remove(draws_base().string() + suffix, ec);
}

}  // namespace twofold::cli
