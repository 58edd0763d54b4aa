// `twofold report OUTDIR`: the HTML page of an output folder, drawn by
// python/twofold_report.py (matplotlib). `demo` and `sample` call it after their
// outputs are committed; there a missing python3/matplotlib is only a warning.
#include "commands.hpp"

#include <twofold/twofold.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <vector>

extern char** environ;

namespace twofold::cli {
namespace {

namespace fs = std::filesystem;

/// The script: $TWOFOLD_REPORT_SCRIPT, else installed next to the binary
/// (<prefix>/bin/twofold -> <prefix>/share/twofold/), else the source tree's copy.
fs::path report_script() {
  if (const char* env = std::getenv("TWOFOLD_REPORT_SCRIPT"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / TWOFOLD_REPORT_SCRIPT_INSTALLED;
    if (fs::is_regular_file(installed, ec)) return installed;
  }
  return TWOFOLD_REPORT_SCRIPT_SOURCE;
}

struct script_result {
  int code;  ///< the script's exit status; -1 when python could not be started
  std::string python;
};

/// Runs the report script on `outdir`; `shown` is the folder its message names (the
/// final folder when the report is drawn in a staging folder before the commit).
script_result run_script(const fs::path& outdir, const fs::path& shown) {
  const char* env = std::getenv("TWOFOLD_PYTHON");
  const std::string python = env && *env ? env : "python3";
  const std::string script = report_script().string(), dir = outdir.string(), shown_dir = shown.string();
  std::vector<char*> argv{const_cast<char*>(python.c_str()), const_cast<char*>(script.c_str()),
                          const_cast<char*>(dir.c_str()), const_cast<char*>(shown_dir.c_str()), nullptr};
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return {-1, python};
  io::set_interrupt_child(pid);  // SIGINT/SIGTERM: stop it before its folder is removed
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      io::set_interrupt_child(0);
      return {-1, python};
    }
  io::set_interrupt_child(0);
  if (!WIFEXITED(status)) return {128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0), python};
  // posix_spawnp reports a missing interpreter as exit 127 from the child on glibc.
  return {WEXITSTATUS(status) == 127 ? -1 : WEXITSTATUS(status), python};
}

/// A committed folder's marker lists its files: add report.html when `twofold report`
/// drew it afterwards (atomically; a folder without a marker is left as it is).
void list_report_in_marker(const fs::path& outdir) {
  const fs::path marker = outdir / std::string(io::output_marker_name);
  std::ifstream in(marker, std::ios::binary);
  if (!in) return;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.find("\nreport.html\n") != std::string::npos) return;
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += "report.html\n";
  const auto bytes = std::as_bytes(std::span(text));
  io::write_file_atomically(marker, std::span(&bytes, 1));
}

}  // namespace

void write_report(const fs::path& outdir, bool warn_only, const fs::path& shown_as) {
  const fs::path& shown = shown_as.empty() ? outdir : shown_as;
  const auto r = run_script(outdir, shown);
  if (r.code == 0) return;
  const std::string what =
      r.code < 0 ? "could not run '" + r.python + "' (set TWOFOLD_PYTHON to a python3 with numpy and matplotlib)"
                 : "the report script failed (exit " + std::to_string(r.code) + ", message above)";
  if (warn_only) {
    std::fprintf(stderr,
                 "twofold: warning: no report.html in '%s': %s; the maps and summary.json are written "
                 "(skip the report with --no-report)\n",
                 shown.string().c_str(), what.c_str());
    return;
  }
  if (r.code == 2) throw bad_input("report for '" + shown.string() + "': " + what);
  throw runtime_failure("report for '" + shown.string() + "': " + what);
}

std::function<void()> add_report_command(CLI::App& app) {
  auto outdir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "report", "Write OUTDIR/report.html: the maps, calibration charts and summary of an output folder (needs python3 "
                "with numpy and matplotlib; TWOFOLD_PYTHON overrides the interpreter)");
  cmd->add_option("OUTDIR", *outdir, "a folder written by twofold demo or twofold sample")->required();
  return [outdir] {
    write_report(*outdir, false);
    list_report_in_marker(*outdir);
  };
}

}  // namespace twofold::cli
