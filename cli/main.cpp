// twofold: posterior sampling for linear inverse problems from the command line.
// Exit codes (docs/design.md §5): 0 success, 2 bad input, 3 runtime or device failure.
#include "commands.hpp"
#include "run/mpi.hpp"

#include <twofold/twofold.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"twofold: GPU posterior sampling for linear inverse problems, with ambiguity/estimation maps"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "twofold 0.1.0");
  app.fallthrough();  // --debug may follow the subcommand
  bool debug = false;
  app.add_flag("--debug", debug, "on errors, also print where in the source they were raised")->configurable(false);
  // SIGINT/SIGTERM: remove the staging folders of the run, then exit 130/143.
  twofold::io::install_interrupt_cleanup();
  const auto run_demo = twofold::cli::add_demo_command(app);
  const auto run_sample = twofold::cli::add_sample_command(app);
  const auto run_validate = twofold::cli::add_validate_command(app);
  const auto run_report = twofold::cli::add_report_command(app);
  auto* info = app.add_subcommand("info", "Print the backends this build and machine can use");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    if (app.got_subcommand("demo")) run_demo();
    if (app.got_subcommand("sample")) run_sample();
    if (app.got_subcommand("validate")) run_validate();
    if (app.got_subcommand("report")) run_report();
    if (info->parsed()) {
      const std::string reason = twofold::cuda_unavailable_reason();
      std::printf("cpu: available\ncuda: %s\n", reason.empty() ? "available" : reason.c_str());
    }
  } catch (const twofold::error& e) {
    std::fprintf(stderr, "twofold: error: %s\n", e.what());
    if (debug && !e.where().empty()) std::fprintf(stderr, "twofold: raised at %s\n", e.where().c_str());
    twofold::cli::abort_mpi_job(e.exit_code());  // --mpi: every process of the job ends
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "twofold: error: out of memory\n");
    twofold::cli::abort_mpi_job(3);
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "twofold: error: %s\n", e.what());
    twofold::cli::abort_mpi_job(3);
    return 3;
  }
  return 0;
}
