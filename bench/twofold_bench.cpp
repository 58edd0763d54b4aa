// twofold_bench: the performance figures of docs/design.md §6 for one backend, as JSON.
//
//   twofold_bench [--backend auto|cpu|cuda] [--size cpu|gpu] [--out FILE.json]
//                 [--repeats N] [--no-peer] [--python CMD] [--torch-python CMD] [--only ID[,ID...]]
//
// Order of a run: copy bandwidth of the backend (the roofline denominator), then
// each scenario (warm-up, timed repeats, pass count, FFT floor) followed by its peers
// (NumPy, PyTorch eager, torch.compile).
// Progress goes to stderr; the JSON to --out or stdout. Exit status 2 on bad
// flags, the twofold::error exit code on library failures.
#include "copy_bandwidth.hpp"
#include "fft_floor.hpp"
#include "peer.hpp"
#include "scenario.hpp"

#include <twofold/twofold.hpp>

#include <nlohmann/json.hpp>

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

using nlohmann::json;
using namespace twofold;
using namespace twofold::bench;

constexpr const char* usage =
    "usage: twofold_bench [--backend auto|cpu|cuda] [--size cpu|gpu] [--out FILE.json]\n"
    "                     [--repeats N] [--no-peer] [--python CMD] [--torch-python CMD] [--only ID[,ID...]]\n"
    "  --backend  backend to measure (default auto: CUDA when a device is usable)\n"
    "  --size     scenario sizes: gpu = the reference sizes of docs/design.md §6 (256x256, 4096 chains x 1000 steps),\n"
    "             cpu = 64x64, 32 chains x 100 steps (default: gpu on CUDA, cpu otherwise)\n"
    "  --out      write the JSON report to FILE (default: stdout)\n"
    "  --repeats  timed repeats per scenario, median reported (default 3)\n"
    "  --no-peer  do not run the peers (recorded as skipped)\n"
    "  --python   interpreter for the NumPy peer (default $TWOFOLD_BENCH_PYTHON or python3)\n"
    "  --torch-python  interpreter for the PyTorch peers (default $TWOFOLD_BENCH_TORCH_PYTHON, else --python);\n"
    "             they run on the GPU when that torch has one, else with the CPU backend's thread count\n"
    "  --only     run only these scenarios: single-coil-langevin, single-coil-exact,\n"
    "             multicoil-langevin, dense-langevin, eeg-langevin, gmm-1d-exact,\n"
    "             single-coil-learned (default: all)\n";

struct options {
  backend_request backend = backend_request::automatic;
  std::optional<size_preset> size;
  std::string out;
  std::size_t repeats = 3;
  bool peer = true;
  std::string python;
  std::string torch_python;  ///< empty: python
  std::vector<std::string> only;  ///< scenario ids; empty = all
};

struct usage_error {
  std::string message;
};

options parse_options(int argc, char** argv) {
  options o;
  const char* env_python = std::getenv("TWOFOLD_BENCH_PYTHON");
  o.python = env_python && *env_python ? env_python : "python3";
  const char* env_torch_python = std::getenv("TWOFOLD_BENCH_TORCH_PYTHON");
  if (env_torch_python && *env_torch_python) o.torch_python = env_torch_python;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw usage_error{flag + " needs a value"};
      return argv[++i];
    };
    if (flag == "--backend") {
      try {
        o.backend = parse_backend(value(), "--backend");
      } catch (const twofold::bad_input&) {
        throw usage_error{"--backend must be one of auto, cpu, cuda (got '" + std::string(argv[i]) + "')"};
      }
    } else if (flag == "--size") {
      const std::string v = value();
      if (v == "cpu") o.size = size_preset::cpu;
      else if (v == "gpu") o.size = size_preset::gpu;
      else throw usage_error{"--size must be cpu or gpu (got '" + v + "')"};
    } else if (flag == "--out") {
      o.out = value();
      if (o.out.empty()) throw usage_error{"--out needs a file name"};
    } else if (flag == "--repeats") {
      const std::string v = value();
      std::size_t end = 0;
      long n = 0;
      try {
        n = std::stol(v, &end);
      } catch (const std::exception&) {
        end = 0;
      }
      if (end != v.size() || n < 1 || n > 1000)
        throw usage_error{"--repeats must be an integer in [1, 1000] (got '" + v + "')"};
      o.repeats = static_cast<std::size_t>(n);
    } else if (flag == "--no-peer") {
      o.peer = false;
    } else if (flag == "--python") {
      o.python = value();
    } else if (flag == "--torch-python") {
      o.torch_python = value();
    } else if (flag == "--only") {
      const std::string v = value();
      const std::vector<scenario_config> known = all_scenarios(size_preset::cpu, 1);
      for (std::size_t start = 0; start <= v.size();) {
        const std::size_t end = std::min(v.find(',', start), v.size());
        const std::string id = v.substr(start, end - start);
        if (std::none_of(known.begin(), known.end(), [&](const scenario_config& c) { return c.id == id; }))
          throw usage_error{"--only: unknown scenario '" + id + "'"};
        o.only.push_back(id);
        start = end + 1;
      }
    } else if (flag == "--help" || flag == "-h") {
      std::cout << usage;
      std::exit(0);
    } else {
      throw usage_error{"unknown option '" + flag + "'"};
    }
  }
  return o;
}

/// First line of a shell command's stdout ("" when it fails).
std::string first_line_of(const std::string& command) {
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (!pipe) return "";
  char line[512] = {};
  const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  const int status = pclose(pipe);
  if (!got || status != 0) return "";
  std::string s = line;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

/// /proc/loadavg's first three fields: other work on the machine distorts CPU timings.
std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string one, five, fifteen;
  return f >> one >> five >> fifteen ? one + " " + five + " " + fifteen : "";
}

std::string host_name() {
  char name[256] = {};
  return gethostname(name, sizeof name - 1) == 0 ? name : "";
}

json to_json(const copy_bandwidth& bw) {
  json m = json::array();
  for (const auto& c : bw.measurements)
    m.push_back({{"method", c.method}, {"bytes_per_copy", c.bytes}, {"bytes_per_second", c.bytes_per_second},
                 {"seconds", c.seconds}});
  return {{"bytes_per_second", bw.bytes_per_second},
          {"counting", "bytes read + bytes written per copy; the largest median of the methods below"},
          {"measurements", m}};
}

/// The peer runs the same algorithm and image size. At the gpu size a CPU NumPy run of
/// 4096 chains × 1000 steps would take hours, so it runs fewer chains and steps: its
/// chain-steps/s is a per-step rate and comparable (the batch stays far beyond cache),
/// with the multi-coil projection's CG iterations scaled by the same step ratio.
peer_request peer_sizes(const scenario_result& result, size_preset size) {
  const scenario_config& c = result.config;
  peer_request r;
  r.sampler = c.sampler == sampler_kind::langevin ? "langevin" : "exact";
  r.op = operator_id(c.op);
  r.shape = c.shape;
  r.coils = c.coils;
  r.sensors = c.sensors;
  r.projection_iterations = result.projection_iterations;
  if (result.projection == "row-svd") r.projection = "row-svd";
  r.sigma_y = c.sigma_y;
  const sampler_params p = sampler_settings(c);
  r.gamma = p.langevin.gamma;
  r.step = p.langevin.step;
  r.s_min = p.schedule.s_min;
  r.s_max = p.schedule.s_max;
  r.rho = p.schedule.rho;
  r.inner_steps = c.inner_steps;
  if (size == size_preset::cpu) {
    r.chains = c.chains();
    r.levels = c.levels;
    r.repeats = c.repeats;
  } else {
    r.chains = c.op == scenario_operator::multicoil ? 32 : 256;  // 32 × 8 coils × 320² is already 210 MB per array
    r.levels = c.sampler == sampler_kind::langevin ? 2 : 8;
    if (c.op == scenario_operator::mixture_1d) {  // scalar chains: keep the batch large, the steps few
      r.chains = 100000;
      r.levels = 20;
    }
    r.repeats = 1;
    // Keep the projection's share of the work per step: scale twofold's CG iterations
    // by the peer's steps over twofold's.
    if (r.projection_iterations > 0)
      r.projection_iterations = std::max<std::size_t>(
          1, static_cast<std::size_t>(std::llround(double(r.projection_iterations) * double(r.levels * r.inner_steps) /
                                                   double(c.steps_per_chain()))));
  }
  return r;
}

/// The peers of one scenario, each timed on the same sizes right after twofold.
json run_peers(const options& o, const scenario_result& r, size_preset size) {
  const std::string torch_python = o.torch_python.empty() ? o.python : o.torch_python;
  const std::string threads = "--threads " + std::to_string(omp_get_max_threads());
  const std::vector<peer_program> programs{
      {"numpy", o.python, TWOFOLD_BENCH_PEERS "/numpy_langevin.py", ""},
      {"torch", torch_python, TWOFOLD_BENCH_PEERS "/torch_langevin.py", "--mode eager " + threads},
      {"torch-compile", torch_python, TWOFOLD_BENCH_PEERS "/torch_langevin.py", "--mode compile " + threads}};
  json all = json::array();
  for (const peer_program& program : programs) {
    if (!o.peer) {
      all.push_back({{"name", program.name}, {"skipped", "--no-peer"}});
      continue;
    }
    const peer_result p = run_peer(program, peer_sizes(r, size));
    json j{{"name", p.name}, {"command", p.command}};
    if (!p.ran) {
      j["skipped"] = p.skipped_reason;
      std::cerr << "[bench]   " << p.name << " skipped: " << p.skipped_reason << "\n";
    } else {
      j["chain_steps_per_second"] = p.chain_steps_per_second;
      j["speedup"] = r.chain_steps_per_second / p.chain_steps_per_second;
      j["report"] = p.report;
      std::cerr << "[bench]   " << p.name << ": " << p.chain_steps_per_second << " chain-steps/s, twofold/" << p.name
                << " = " << r.chain_steps_per_second / p.chain_steps_per_second << "\n";
    }
    all.push_back(std::move(j));
  }
  return all;
}

json to_json(const scenario_result& r) {
  const scenario_config& c = r.config;
  json passes = json::array();
  for (const auto& p : r.passes)
    passes.push_back({{"kernel", p.kernel}, {"reads", p.reads}, {"writes", p.writes}, {"elements", p.elements}});
  const double state_bytes = double(c.shape.pixels()) * double(sizeof(cfloat));
  json j{{"id", c.id},
          {"name", c.name},
          {"sampler", c.sampler == sampler_kind::langevin ? "langevin" : "exact"},
          {"operator", operator_id(c.op)},
          {"prior", r.prior},
          {"design", "replicate"},
          {"shape", {c.shape.height, c.shape.width}},
          {"acceleration", c.acceleration},
          {"runs", c.runs},
          {"chains_per_run", c.chains_per_run},
          {"chains", c.chains()},
          {"levels", c.levels},
          {"inner_steps", c.inner_steps},
          {"steps", c.steps_per_chain()},
          {"waves", r.waves},
          {"wave_chains", r.wave_chains},
          {"repeats", c.repeats},
          {"seconds", r.seconds},
          {"all_seconds", r.wall_seconds},
          {"engine_seconds", r.engine_seconds},
          {"chain_steps_per_second", r.chain_steps_per_second},
          {"passes_per_chain_step", r.bytes_per_chain_step / state_bytes},
          {"floor_bytes_per_chain_step", 2.0 * state_bytes},
          {"passes", passes},
          {"bytes_per_chain_step", r.bytes_per_chain_step},
          {"achieved_bytes_per_second", r.achieved_bytes_per_second},
          {"roofline_fraction", r.roofline_fraction}};
  if (c.op == scenario_operator::multicoil) {
    j["coils"] = c.coils;
    j["projection"] = r.projection;
    j["projection_cg_iterations"] = r.projection_iterations;
  }
  if (c.op == scenario_operator::dense) j["sensors"] = c.sensors;
  if (c.op == scenario_operator::dense || c.op == scenario_operator::mixture_1d) j.erase("acceleration");
  if (c.op == scenario_operator::mixture_1d) j["components"] = 3;
  if (!c.model.empty()) {
    // Per chain-step of the median repeat: inside the network's forward, in the rest of the
    // prior's calls (layout copies, conversion, finiteness check), and the engine (everything else).
    const double steps = double(c.chains()) * double(c.steps_per_chain());
    j["network_calls"] = r.network_calls;
    j["network_seconds"] = r.network_seconds;
    j["prior_call_seconds"] = r.prior_call_seconds;
    j["split_per_chain_step_microseconds"] = {
        {"network", 1e6 * r.network_seconds / steps},
        {"prior_adapter", 1e6 * (r.prior_call_seconds - r.network_seconds) / steps},
        {"engine", 1e6 * (r.seconds - r.prior_call_seconds) / steps}};
    j["engine_fraction"] = (r.seconds - r.prior_call_seconds) / r.seconds;
    j["adapter_fraction"] = (r.prior_call_seconds - r.network_seconds) / r.seconds;
  }
  return j;
}

int run(const options& o, const std::string& command_line) {
  const context ctx(o.backend);
  const size_preset size = o.size.value_or(ctx.is_cuda() ? size_preset::gpu : size_preset::cpu);
  const std::string load_before = load_average();
  std::cerr << "[bench] device: " << ctx.device_name() << ", load average " << load_before << "\n";

  constexpr std::size_t copy_bytes = std::size_t{256} << 20;
  const copy_bandwidth bw = measure_copy_bandwidth(ctx, copy_bytes, 10);
  std::cerr << "[bench] copy bandwidth: " << bw.bytes_per_second / 1e9 << " GB/s (read + write)\n";

  json scenarios = json::array();
  for (const scenario_config& c : all_scenarios(size, o.repeats)) {
    if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), c.id) == o.only.end()) continue;
    if (c.id == "single-coil-learned") {
      std::string why;
      if (c.model.empty() || !torchscript_available(&why)) {
        if (why.empty()) why = "no network: set TWOFOLD_BENCH_MODEL, or build with LibTorch and a python3 with torch";
        std::cerr << "[bench] " << c.id << " skipped: " << why << "\n";
        scenarios.push_back({{"id", c.id}, {"skipped", why}});
        continue;
      }
    }
    std::cerr << "[bench] " << c.id << " (" << c.name << "): " << c.shape.height << "x" << c.shape.width << ", "
              << c.chains() << " chains x " << c.steps_per_chain() << " steps\n";
    const scenario_result r = run_scenario(ctx, c, bw.bytes_per_second);
    std::cerr << "[bench]   " << r.seconds << " s, " << r.chain_steps_per_second << " chain-steps/s, roofline "
              << r.roofline_fraction << "\n";
    json s = to_json(r);
    if (!c.model.empty()) {
      std::cerr << "[bench]   network " << r.network_seconds << " s, prior calls " << r.prior_call_seconds
                << " s, engine " << r.seconds - r.prior_call_seconds << " s of " << r.seconds << " s\n";
      s["peers"] = json::array({{{"name", "numpy"}, {"skipped", "no peer runs a network prior"}}});
      scenarios.push_back(std::move(s));
      continue;
    }
    if (c.op == scenario_operator::single_coil || c.op == scenario_operator::multicoil) {
      // One chain-step of either sampler transforms the image (each coil plane for
      // multi-coil) forward and back once: the FFT floor is that pair rate.
      const std::size_t planes = c.chains() * c.coils;
      const fft_floor f = measure_fft_floor(ctx, c.shape, planes, 3);
      s["fft_floor"] = {{"method", f.method}, {"images", planes}};
      if (!f.skipped.empty()) {
        s["fft_floor"]["skipped"] = f.skipped;
      } else {
        const double per_chain = double(c.coils);
        s["fft_floor"]["pairs_per_second"] = f.pairs_per_second;
        s["fft_floor"]["row_pairs_per_second"] = f.row_pairs_per_second;
        s["fft_floor_fraction"] = r.chain_steps_per_second * per_chain / f.pairs_per_second;
        s["fft_floor_fraction_rows"] = r.chain_steps_per_second * per_chain / f.row_pairs_per_second;
        std::cerr << "[bench]   FFT floor: " << f.pairs_per_second << " 2-D pairs/s, " << f.row_pairs_per_second
                  << " row pairs/s; twofold at " << s["fft_floor_fraction"].get<double>() << " of the 2-D floor\n";
      }
    }
    s["peers"] = run_peers(o, r, size);
    scenarios.push_back(std::move(s));
  }

  const std::string src = TWOFOLD_BENCH_SOURCE_DIR;
  const json report{
      {"benchmark", "twofold_bench"},
      {"command_line", command_line},
      {"timestamp_utc", utc_now()},
      {"git", {{"describe", first_line_of("git -C '" + src + "' describe --always --dirty --tags")},
               {"commit_date", first_line_of("git -C '" + src + "' log -1 --format=%cI")}}},
      {"host", host_name()},
      {"load_average", {{"before", load_before}, {"after", load_average()}}},
      {"device", ctx.device_name()},
      {"backend", std::string(to_string(ctx.backend()))},
      {"size", size == size_preset::gpu ? "gpu" : "cpu"},
      {"copy_bandwidth", to_json(bw)},
      {"scenarios", scenarios}};

  if (o.out.empty()) {
    std::cout << report.dump(2) << "\n";
  } else {
    std::ofstream f(o.out);
    f << report.dump(2) << "\n";
    f.close();
    if (!f) {
      std::cerr << "twofold_bench: could not write '" << o.out << "'\n";
      return 3;
    }
    std::cerr << "[bench] wrote " << o.out << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command_line;
  for (int i = 0; i < argc; ++i) {
    if (i > 0) command_line += ' ';
    command_line += argv[i];
  }
  options o;
  try {
    o = parse_options(argc, argv);
  } catch (const usage_error& e) {
    std::cerr << "twofold_bench: " << e.message << "\n" << usage;
    return 2;
  }
  try {
    return run(o, command_line);
  } catch (const twofold::error& e) {
    std::cerr << "twofold_bench: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "twofold_bench: " << e.what() << "\n";
    return 3;
  }
}
