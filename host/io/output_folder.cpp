#include <twofold/core/error.hpp>
#include <twofold/io/output_folder.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <system_error>
#include <thread>
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

constexpr std::string_view staging_tag = ".twofold-staging-";
constexpr std::string_view aside_tag = ".twofold-old-";
constexpr std::string_view temporary_tag = ".tmp-";

// ---------------------------------------------------------------------------
// What the interrupt handler cleans: a fixed table of paths, written only with
// signals blocked in the writing thread and read by the handler; everything the
// handler calls is async-signal-safe (open, getdents64, unlinkat, rmdir, kill,
// _exit).
struct cleanup_entry {
  std::atomic<int> state{0};  // 0 free, 1 being written, 2 remove the tree, 3 rmdir when empty
  char path[PATH_MAX];
};
constexpr int max_cleanup_entries = 32;
cleanup_entry cleanup_table[max_cleanup_entries];
std::atomic<int> interrupt_child{0};
std::atomic<int> commit_depth{0};       // > 0: a commit is swapping folders
std::atomic<int> pending_signal{0};     // a signal held until the swap is done
std::atomic<bool> handlers_installed{false};

int register_cleanup(const fs::path& p, int kind) noexcept {
  const std::string s = p.string();
  if (s.size() + 1 > PATH_MAX) return -1;
  for (int i = 0; i < max_cleanup_entries; ++i) {
    int expected = 0;
    if (cleanup_table[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(cleanup_table[i].path, s.c_str(), s.size() + 1);
      cleanup_table[i].state.store(kind);
      return i;
    }
  }
  return -1;  // table full: this folder is then only cleaned by the next run
}

void unregister_cleanup(int& slot) noexcept {
  if (slot >= 0) cleanup_table[slot].state.store(0);
  slot = -1;
}

// Removes the tree at dirfd/name, async-signal-safely, to a bounded depth.
void remove_tree_at(int dirfd, const char* name, int depth) noexcept {
  if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
  if (depth > 8) return;
  const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  alignas(8) char buf[4096];
  for (;;) {
    const long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      // struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[]
      unsigned short reclen = 0;
      std::memcpy(&reclen, buf + off + 16, sizeof reclen);
      const char* child = buf + off + 19;
      if (!(child[0] == '.' && (child[1] == 0 || (child[1] == '.' && child[2] == 0))))
        remove_tree_at(fd, child, depth + 1);
      off += reclen;
    }
  }
  ::close(fd);
  ::unlinkat(dirfd, name, AT_REMOVEDIR);
}

void clean_and_exit(int sig) noexcept {
  const int child = interrupt_child.load();
  if (child > 0) ::kill(child, SIGTERM);
  for (auto& e : cleanup_table)
    if (e.state.load() == 2) remove_tree_at(AT_FDCWD, e.path, 0);
  // Created parents, innermost (registered last) first; rmdir only removes empty ones.
  for (int i = max_cleanup_entries; i-- > 0;)
    if (cleanup_table[i].state.load() == 3) ::rmdir(cleanup_table[i].path);
  ::_exit(128 + sig);
}

extern "C" void on_interrupt(int sig) {
  if (commit_depth.load() > 0) {  // the swap finishes first; commit() exits after it
    pending_signal.store(sig);
    return;
  }
  clean_and_exit(sig);
}

// Blocks SIGINT/SIGTERM in this thread while the cleanup table is changed.
class signals_blocked {
 public:
  signals_blocked() noexcept {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &s, &old_);
  }
  ~signals_blocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  signals_blocked(const signals_blocked&) = delete;
  signals_blocked& operator=(const signals_blocked&) = delete;

 private:
  sigset_t old_{};
};

// ---------------------------------------------------------------------------

// `.<target><tag><pid>-<n>`: a hidden sibling of the target, named after it.
fs::path hidden_sibling(const fs::path& target, std::string_view tag) {
  std::string name(1, '.');  // (not "." + string: GCC 12 warns falsely, -Wrestrict)
  name += target.filename().string();
  name += tag;
  name += unique_suffix();
  return target.parent_path() / name;
}

bool process_alive(long pid) {
  if (pid <= 0 || pid > INT_MAX) return false;
  if (pid == static_cast<long>(::getpid())) return true;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// `.<target>` + tag + `<pid>-<n>`: the target name and the pid; false when `name` is not such an entry.
bool parse_entry(const std::string& name, std::string_view tag, std::string& target, long& pid) {
  const auto at = name.rfind(tag);
  if (name.size() < 2 || name[0] != '.' || at == std::string::npos || at < 2) return false;
  const std::string rest = name.substr(at + tag.size());
  const auto dash = rest.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == rest.size()) return false;
  for (std::size_t i = 0; i < rest.size(); ++i)
    if (i != dash && (rest[i] < '0' || rest[i] > '9')) return false;
  target = name.substr(1, at - 1);
  pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
  return true;
}

long commit_pause_ms() {
  const char* env = std::getenv("TWOFOLD_TEST_COMMIT_PAUSE_MS");
  if (env == nullptr || *env == 0) return 0;
  return std::max(0L, std::strtol(env, nullptr, 10));
}

void pause_for_tests(long ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

bool is_inside(const fs::path& p, const fs::path& dir) {
  auto d = dir.begin(), q = p.begin();
  for (; d != dir.end(); ++d, ++q) {
    if (d->empty()) continue;  // a trailing separator
    if (q == p.end() || *q != *d) return false;
  }
  return true;
}

fs::path resolved(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::weakly_canonical(fs::absolute(p, ec), ec);
  if (ec) abs = fs::absolute(p, ec).lexically_normal();
  return abs;
}

}  // namespace

void write_file_atomically(const fs::path& path, std::span<const std::span<const std::byte>> parts) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string tmp_name(1, '.');
  tmp_name += path.filename().string();
  tmp_name += temporary_tag;
  tmp_name += unique_suffix();
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

void recover_output_folders(const fs::path& parent) noexcept {
  try {
    std::error_code ec;
    std::vector<fs::path> entries;
    for (const auto& e : fs::directory_iterator(parent, ec)) entries.push_back(e.path());
    // Set-aside old folders first: they may have to take their place back.
    for (const auto& e : entries) {
      std::string target;
      long pid = 0;
      const std::string name = e.filename().string();
      if (!parse_entry(name, aside_tag, target, pid) || process_alive(pid)) continue;
      const fs::path home = parent / target;
      if (!fs::exists(fs::symlink_status(home, ec))) {
        fs::rename(e, home, ec);
        if (!ec) {
          std::fprintf(stderr, "twofold: note: restored %s, which an interrupted run had set aside\n",
                       quoted(home).c_str());
          continue;
        }
      }
      fs::remove_all(e, ec);
    }
    for (const auto& e : entries) {
      std::string target;
      long pid = 0;
      if (parse_entry(e.filename().string(), staging_tag, target, pid) && !process_alive(pid))
        fs::remove_all(e, ec);
      // A file a killed process was writing with write_file_atomically (e.g. a checkpoint).
      else if (parse_entry(e.filename().string(), temporary_tag, target, pid) && !process_alive(pid) &&
               fs::is_regular_file(fs::symlink_status(e, ec)))
        fs::remove(e, ec);
    }
  } catch (...) {
    // Best effort: a folder that cannot be listed is reported by the caller's own checks.
  }
}

output_folder::output_folder(fs::path final_dir, output_folder_options options) : exchange_(options.exchange) {
  if (const char* env = std::getenv("TWOFOLD_TEST_RENAME_ASIDE"); env != nullptr && *env == '1') exchange_ = false;
  TWOFOLD_EXPECTS(!final_dir.empty(), "output folder: the path is empty");
  std::error_code ec;
  fs::path target = fs::absolute(final_dir, ec).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();  // "out/" -> "out"
  const std::string name = "output folder " + quoted(final_dir);
  TWOFOLD_EXPECTS(target.has_filename() && target != target.root_path() && target.filename() != "..",
                  name + " cannot be replaced (give a folder with a name)");
  const auto st = fs::symlink_status(target, ec);
  if (fs::is_symlink(st)) {  // replace what the link points at, not the link
    target = fs::canonical(target, ec);
    TWOFOLD_EXPECTS(!ec, name + " is a symbolic link to nothing (" + ec.message() + ")");
  }
  final_dir_ = target;
  const auto fst = fs::status(final_dir_, ec);
  const bool exists = fs::exists(fst);
  if (exists) {
    TWOFOLD_EXPECTS(!fs::is_regular_file(fst), name + " is a file");
    TWOFOLD_EXPECTS(fs::is_directory(fst), name + " exists and is not a directory");
  }
  // Never replace a folder that holds an input of this run.
  const fs::path canonical_dir = resolved(final_dir_);
  for (const auto& input : options.inputs) {
    if (input.empty()) continue;
    TWOFOLD_EXPECTS(!is_inside(resolved(input), canonical_dir),
                    name + " holds the input " + quoted(input) +
                        ": twofold replaces the whole output folder, so it never writes where its inputs are "
                        "(choose another --out)");
  }
  if (exists && !fs::is_empty(final_dir_, ec)) {
    const bool ours = fs::is_regular_file(final_dir_ / output_marker_name, ec);
    TWOFOLD_EXPECTS(ours || options.force,
                    name + " is not empty and was not written by twofold (it has no " +
                        std::string(output_marker_name) +
                        " marker): twofold replaces the whole output folder, so it refuses to; choose a new or empty "
                        "folder, or add --force to replace this one");
  }
  // Create the parent (from the outermost missing ancestor down), remembering what we made.
  const fs::path parent = final_dir_.parent_path();
  std::vector<fs::path> missing;
  for (fs::path p = parent; !p.empty(); p = p.parent_path()) {
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
  TWOFOLD_EXPECTS(fs::is_directory(parent, ec), name + " cannot be created: " + quoted(parent) + " is not a folder");
  recover_output_folders(parent);
  // The staging folder doubles as the writability check.
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate = hidden_sibling(final_dir_, staging_tag);
    signals_blocked blocked;
    if (fs::create_directory(candidate, ec)) {
      staging_dir_ = std::move(candidate);
      for (const auto& p : created_dirs_) cleanup_slots_.push_back(register_cleanup(p, 3));
      cleanup_slots_.push_back(register_cleanup(staging_dir_, 2));
      return;
    }
    if (ec) break;  // a real error, not a name clash
  }
  const std::string why = ec ? ec.message() : "no free staging name";
  discard();
  TWOFOLD_EXPECTS(false, name + " cannot be written: its parent folder " + quoted(parent) + " is not writable (" +
                             why + ")");
}

output_folder::output_folder(output_folder&& other) noexcept
    : final_dir_(std::move(other.final_dir_)),
      staging_dir_(std::exchange(other.staging_dir_, {})),
      created_dirs_(std::exchange(other.created_dirs_, {})),
      staged_names_(std::exchange(other.staged_names_, {})),
      cleanup_slots_(std::exchange(other.cleanup_slots_, {})),
      exchange_(other.exchange_),
      committed_(std::exchange(other.committed_, false)) {}

output_folder& output_folder::operator=(output_folder&& other) noexcept {
  if (this != &other) {
    if (!committed_) discard();
    final_dir_ = std::move(other.final_dir_);
    staging_dir_ = std::exchange(other.staging_dir_, {});
    created_dirs_ = std::exchange(other.created_dirs_, {});
    staged_names_ = std::exchange(other.staged_names_, {});
    cleanup_slots_ = std::exchange(other.cleanup_slots_, {});
    exchange_ = other.exchange_;
    committed_ = std::exchange(other.committed_, false);
  }
  return *this;
}

output_folder::~output_folder() {
  if (!committed_) discard();
}

void output_folder::release_cleanup() noexcept {
  signals_blocked blocked;
  for (auto& slot : cleanup_slots_) unregister_cleanup(slot);
  cleanup_slots_.clear();
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
  release_cleanup();
}

fs::path output_folder::stage(std::string_view file_name) {
  TWOFOLD_ENSURES(!committed_ && !staging_dir_.empty(),
                  "output folder " + quoted(final_dir_) + ": stage() after commit or move");
  const std::string name(file_name);
  TWOFOLD_EXPECTS(!name.empty() && name != "." && name != ".." && name != output_marker_name &&
                      name.find('/') == std::string::npos && name.find('\0') == std::string::npos,
                  "output file name '" + name + "' must be a plain file name");
  if (std::find(staged_names_.begin(), staged_names_.end(), name) == staged_names_.end())
    staged_names_.push_back(name);
  return staging_dir_ / name;
}

void output_folder::commit() {
  TWOFOLD_ENSURES(!committed_ && !staging_dir_.empty(),
                  "output folder " + quoted(final_dir_) + ": commit() called twice or after a move");
  const std::string name = "output folder " + quoted(final_dir_);
  std::error_code ec;
  for (const auto& staged : staged_names_)
    if (!fs::is_regular_file(staging_dir_ / staged, ec))
      fail(name + ": staged file '" + staged + "' was never written");
  const long pause = commit_pause_ms();

  // The marker lists what the folder holds.
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(staging_dir_, ec)) files.push_back(entry.path().filename().string());
  if (ec) fail(name + ": cannot list the staging folder: " + ec.message());
  std::sort(files.begin(), files.end());
  std::string marker = "twofold output folder\n";
  for (const auto& f : files) marker += f + "\n";
  const std::span<const std::byte> marker_bytes = std::as_bytes(std::span(marker));
  pause_for_tests(pause);
  write_file_atomically(staging_dir_ / output_marker_name, std::span(&marker_bytes, 1));
  pause_for_tests(pause);

  // The swap. A SIGINT/SIGTERM arriving now is held until it is done.
  fs::path old_dir;  // where the replaced folder ends up, to be removed
  std::string failure;
  commit_depth.fetch_add(1);
  {
    const auto st = fs::symlink_status(final_dir_, ec);
    if (!fs::exists(st)) {
      if (::rename(staging_dir_.c_str(), final_dir_.c_str()) != 0)
        failure = std::string("cannot move the staged folder into place: ") + std::strerror(errno);
    } else {
      bool swapped = false;
      if (exchange_) {
        if (::renameat2(AT_FDCWD, staging_dir_.c_str(), AT_FDCWD, final_dir_.c_str(), RENAME_EXCHANGE) == 0) {
          swapped = true;
          old_dir = staging_dir_;  // the old folder now sits at the staging name
        } else if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
          failure = std::string("cannot swap the staged folder into place: ") + std::strerror(errno);
        }
      }
      if (!swapped && failure.empty()) {
        // Rename aside, then into place; recover_output_folders repairs a kill in between.
        const fs::path aside = hidden_sibling(final_dir_, aside_tag);
        if (::rename(final_dir_.c_str(), aside.c_str()) != 0) {
          failure = std::string("cannot set the old folder aside: ") + std::strerror(errno);
        } else {
          pause_for_tests(pause);  // a kill here: the next run renames the old folder back
          if (::rename(staging_dir_.c_str(), final_dir_.c_str()) != 0) {
            failure = std::string("cannot move the staged folder into place: ") + std::strerror(errno);
            ::rename(aside.c_str(), final_dir_.c_str());  // put the old folder back
          } else {
            old_dir = aside;
          }
        }
      }
    }
    if (failure.empty()) {
      // From here the staging entry must not delete anything: old_dir is removed below.
      release_cleanup();
      if (!old_dir.empty()) cleanup_slots_.push_back(register_cleanup(old_dir, 2));
    }
  }
  commit_depth.fetch_sub(1);
  if (const int sig = pending_signal.load(); sig != 0) clean_and_exit(sig);
  if (!failure.empty()) fail(name + ": " + failure + " (the previous folder is unchanged)");

  staging_dir_.clear();
  created_dirs_.clear();
  committed_ = true;
  pause_for_tests(pause);
  if (!old_dir.empty()) {
    // File by file, so a kill in the middle leaves a partial old folder only under
    // its hidden staging name, which the next run removes.
    for (const auto& entry : fs::directory_iterator(old_dir, ec)) {
      fs::remove_all(entry.path(), ec);
      pause_for_tests(pause / 10);
    }
    fs::remove_all(old_dir, ec);
  }
  release_cleanup();
}

void install_interrupt_cleanup() {
  if (handlers_installed.exchange(true)) return;
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void set_interrupt_child(int pid) noexcept { interrupt_child.store(pid); }

}  // namespace twofold::io
