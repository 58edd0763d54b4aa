#include "peer.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <sstream>

namespace twofold::bench {
namespace {

/// Single-quoted for /bin/sh.
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string command_line(const peer_program& program, const peer_request& r) {
  std::ostringstream cmd;
  cmd.precision(17);
  cmd << program.python << ' ' << shell_quote(program.script) << " --sampler " << r.sampler << " --operator " << r.op
      << " --coils " << r.coils << " --sensors " << r.sensors << " --projection " << r.projection
      << " --projection-iterations "
      << r.projection_iterations << " --height " << r.shape.height
      << " --width " << r.shape.width << " --chains " << r.chains << " --levels " << r.levels << " --inner-steps "
      << r.inner_steps << " --repeats " << r.repeats << " --sigma-y " << r.sigma_y << " --gamma " << r.gamma
      << " --step " << r.step << " --s-min " << r.s_min << " --s-max " << r.s_max << " --rho " << r.rho;
  if (!program.extra_flags.empty()) cmd << ' ' << program.extra_flags;
  return cmd.str();
}

std::string tail_of(const std::string& text, std::size_t n) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

}  // namespace

peer_result run_peer(const peer_program& program, const peer_request& request) {
  const std::string& python = program.python;
  peer_result result;
  result.name = program.name;
  result.command = command_line(program, request);
  std::fflush(nullptr);  // the child inherits our stdio buffers otherwise
  FILE* pipe = popen((result.command + " 2>&1").c_str(), "r");
  if (!pipe) {
    result.skipped_reason = "could not start '" + python + "' (popen failed)";
    return result;
  }
  std::string output;
  char chunk[4096];
  while (const std::size_t n = std::fread(chunk, 1, sizeof chunk, pipe)) output.append(chunk, n);
  const int status = pclose(pipe);
  const int code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;

  // The script's report is its last line that starts with '{'.
  std::string last_json;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line.front() == '{') last_json = line;

  if (code == 127) {
    result.skipped_reason = "'" + python + "' was not found (shell exit status 127)";
  } else if (code != 0 || last_json.empty()) {
    result.skipped_reason = "peer exited with status " + std::to_string(code) + ": " + tail_of(output, 400);
  } else {
    try {
      result.report = nlohmann::json::parse(last_json);
      if (result.report.contains("skipped")) {
        result.skipped_reason = result.report["skipped"].get<std::string>();
      } else {
        result.chain_steps_per_second = result.report.at("chain_steps_per_second").get<double>();
        result.ran = true;
      }
    } catch (const nlohmann::json::exception& e) {
      result.skipped_reason = std::string("peer output is not the expected JSON (") + e.what() + "): " +
                              tail_of(output, 400);
    }
  }
  return result;
}

}  // namespace twofold::bench
