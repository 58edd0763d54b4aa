#include <twofold/core/error.hpp>
#include <twofold/io/output_folder.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

namespace twofold::io {
namespace fs = std::filesystem;

namespace {

// Distinguishes temporaries and staging folders made by one process.
std::atomic<unsigned long> unique_counter{0};

std::string unique_suffix() {
  return std::to_string(static_cast<long>(::getpid())) + "-" + std::to_string(unique_counter++);
}

[[noreturn]] void fail(const std::string& msg) {
  detail::throw_runtime_failure(__FILE__, __LINE__, msg);
}

std::string quoted(const fs::path& p) {
  std::string q(1, '\'');
  q += p.string();
  q += '\'';
  return q;
}

}  // namespace

void write_file_atomically(const fs::path& path, std::span<const std::span<const std::byte>> parts) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string tmp_name(1, '.');
  tmp_name += path.filename().string();
  tmp_name += ".tmp-" + unique_suffix();
  const fs::path tmp = dir / tmp_name;

  std::FILE* f = std::fopen(tmp.c_str(), "wbx");
  if (f == nullptr) fail("cannot write " + quoted(path) + ": " + std::strerror(errno));
  int err = 0;
  for (const auto part : parts) {
    if (part.empty()) continue;
    if (std::fwrite(part.data(), 1, part.size(), f) != part.size()) {
      err = errno;
      break;
    }
  }
  if (std::fflush(f) != 0 && err == 0) err = errno;
  if (std::fclose(f) != 0 && err == 0) err = errno;
  if (err != 0) {
    std::remove(tmp.c_str());
    fail("cannot write " + quoted(path) + ": " + std::strerror(err));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail("cannot move the finished file into place at " + quoted(path) + ": " + ec.message());
  }
}

output_folder::output_folder(fs::path final_dir) : final_dir_(std::move(final_dir)) {
  const std::string name = "output folder " + quoted(final_dir_);
  TWOFOLD_EXPECTS(!final_dir_.empty(), "output folder: the path is empty");
  std::error_code ec;
  const auto st = fs::status(final_dir_, ec);
  if (fs::exists(st)) {
    TWOFOLD_EXPECTS(!fs::is_regular_file(st), name + " is a file");
    TWOFOLD_EXPECTS(fs::is_directory(st), name + " exists and is not a directory");
  } else {
    // Create from the outermost missing ancestor down, remembering what we made.
    std::vector<fs::path> missing;
    for (fs::path p = fs::absolute(final_dir_, ec); !p.empty(); p = p.parent_path()) {
      if (fs::exists(p, ec)) break;
      missing.push_back(p);
      if (p == p.parent_path()) break;
    }
    std::reverse(missing.begin(), missing.end());
    for (const auto& p : missing) {
      if (!fs::create_directory(p, ec) || ec) {
        const std::string why = ec ? ec.message() : "it appeared while being created";
        discard();  // the destructor will not run: undo the folders made so far
        TWOFOLD_EXPECTS(false, name + " cannot be created: " + why);
      }
      created_dirs_.push_back(p);
    }
  }
  // The staging folder doubles as the writability check.
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate = final_dir_ / (".twofold-staging-" + unique_suffix());
    if (fs::create_directory(candidate, ec)) {
      staging_dir_ = std::move(candidate);
      return;
    }
    if (ec) break;  // a real error, not a name clash
  }
  const std::string why = ec ? ec.message() : "no free staging name";
  discard();
  TWOFOLD_EXPECTS(false, name + " is not writable: " + why);
}

output_folder::output_folder(output_folder&& other) noexcept
    : final_dir_(std::move(other.final_dir_)),
      staging_dir_(std::exchange(other.staging_dir_, {})),
      created_dirs_(std::exchange(other.created_dirs_, {})),
      staged_names_(std::exchange(other.staged_names_, {})),
      committed_(std::exchange(other.committed_, false)) {}

output_folder& output_folder::operator=(output_folder&& other) noexcept {
  if (this != &other) {
    if (!committed_) discard();
    final_dir_ = std::move(other.final_dir_);
    staging_dir_ = std::exchange(other.staging_dir_, {});
    created_dirs_ = std::exchange(other.created_dirs_, {});
    staged_names_ = std::exchange(other.staged_names_, {});
    committed_ = std::exchange(other.committed_, false);
  }
  return *this;
}

output_folder::~output_folder() {
  if (!committed_) discard();
}

void output_folder::discard() noexcept {
  try {
    std::error_code ec;
    if (!staging_dir_.empty()) fs::remove_all(staging_dir_, ec);
    staging_dir_.clear();
    // Innermost first; fs::remove on a directory only succeeds when it is empty.
    for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) {
      if (!fs::is_empty(*it, ec) || ec) break;
      fs::remove(*it, ec);
    }
    created_dirs_.clear();
  } catch (...) {
    // A destructor path: nothing sensible to report.
  }
}

fs::path output_folder::stage(std::string_view file_name) {
  TWOFOLD_ENSURES(!committed_ && !staging_dir_.empty(),
                  "output folder " + quoted(final_dir_) + ": stage() after commit or move");
  const std::string name(file_name);
  TWOFOLD_EXPECTS(!name.empty() && name != "." && name != ".." &&
                      name.find('/') == std::string::npos && name.find('\0') == std::string::npos,
                  "output file name '" + name + "' must be a plain file name");
  if (std::find(staged_names_.begin(), staged_names_.end(), name) == staged_names_.end())
    staged_names_.push_back(name);
  return staging_dir_ / name;
}

void output_folder::commit() {
  TWOFOLD_ENSURES(!committed_ && !staging_dir_.empty(),
                  "output folder " + quoted(final_dir_) + ": commit() called twice or after a move");
  std::error_code ec;
  for (const auto& name : staged_names_)
    if (!fs::is_regular_file(staging_dir_ / name, ec))
      fail("output folder " + quoted(final_dir_) + ": staged file '" + name + "' was never written");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(staging_dir_, ec))
    if (entry.is_regular_file(ec)) files.push_back(entry.path());
  if (ec) fail("output folder " + quoted(final_dir_) + ": cannot list the staging folder: " + ec.message());
  for (const auto& f : files) {
    fs::rename(f, final_dir_ / f.filename(), ec);
    if (ec)
      fail("output folder " + quoted(final_dir_) + ": cannot move '" + f.filename().string() +
           "' into place: " + ec.message());
  }
  fs::remove_all(staging_dir_, ec);
  staging_dir_.clear();
  created_dirs_.clear();
  committed_ = true;
}

}  // namespace twofold::io
