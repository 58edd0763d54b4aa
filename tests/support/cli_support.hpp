#pragma once
// Runs the twofold command-line program from tests: its exit code and output.
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace twofold::testing {

struct cli_result {
  int code;
  std::string output;
};

#ifdef TWOFOLD_CLI_PATH
inline const char* cli_path() { return TWOFOLD_CLI_PATH; }
#else
inline const char* cli_path() { return nullptr; }
#endif

/// `env_prefix` (e.g. "VAR=1", may be empty) + the CLI + `args`, stdout and stderr together.
inline cli_result run_cli_with_env(const std::string& env_prefix, const std::string& args) {
  const char* cli = cli_path();
  if (!cli) return {-1, "the twofold CLI was not built"};
  const std::string cmd = env_prefix + " " + std::string(cli) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (pipe && fgets(buf, sizeof buf, pipe)) out += buf;
  const int status = pipe ? pclose(pipe) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

inline cli_result run_cli(const std::string& args) { return run_cli_with_env("", args); }

}  // namespace twofold::testing
