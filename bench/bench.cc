/* SPDX-License-Identifier: BSD-2-Clause */
// The C API of bench.h, on Google Benchmark 1.7.
#include "bench/bench.h"

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace {

benchmark::State &S(bench_state *s) { return *reinterpret_cast<benchmark::State *>(s); }
const benchmark::State &S(const bench_state *s) {
  return *reinterpret_cast<const benchmark::State *>(s);
}
benchmark::internal::Benchmark *B(bench *b) {
  return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}
bench *C(benchmark::internal::Benchmark *b) { return reinterpret_cast<bench *>(b); }

// Google Benchmark's Setup/Teardown take a bare function pointer with no user data, so each C
// hook gets a slot and a trampoline that knows its slot number.
constexpr int kHookSlots = 256;
std::array<bench_hook_fn *, kHookSlots> hook_fns;
int hook_used;

template <int N>
void Trampoline(const benchmark::State &st) {
  hook_fns[N](reinterpret_cast<const bench_state *>(&st));
}
template <int... N>
constexpr std::array<void (*)(const benchmark::State &), sizeof...(N)> Trampolines(
    std::integer_sequence<int, N...>) {
  return {&Trampoline<N>...};
}
constexpr auto kTrampolines = Trampolines(std::make_integer_sequence<int, kHookSlots>());

void (*HookSlot(bench_hook_fn *fn))(const benchmark::State &) {
  if (hook_used == kHookSlots) {
    std::fprintf(stderr, "bench: more than %d setup/teardown hooks\n", kHookSlots);
    std::abort();
  }
  hook_fns[hook_used] = fn;
  return kTrampolines[hook_used++];
}

// Pinning: thread k of an n-thread run goes to the k-th CPU this process may use, if n fits.
// "May use" is the set the process started with, read once in bench_main(): a benchmark that
// pins its own thread and forgets to restore it must not shrink the set for every later run
// (it did: later 2-thread runs then shared one CPU and measured exactly twice the 1-thread cost).
cpu_set_t process_cpus;
bool process_cpus_known;

void Pin(const benchmark::State &st) {
  if (!process_cpus_known || st.threads() > CPU_COUNT(&process_cpus)) return;
  int want = st.thread_index();
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &process_cpus) || want-- != 0) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
    return;
  }
}

// Back to the whole set, whatever the benchmark did to this thread's affinity meanwhile.
void Unpin() {
  if (!process_cpus_known) return;
  pthread_setaffinity_np(pthread_self(), sizeof(process_cpus), &process_cpus);
}

// Console output plus, at the end, each benchmark's cost per call as each thread sees it and its
// ratio to the baseline at the same thread count, measured in this run.
constexpr const char kBaseline[] = "baseline/unprotected";

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  explicit RatioReporter(OutputOptions opts) : ConsoleReporter(opts) {}

  void ReportRuns(const std::vector<Run> &runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run &run : runs) {
      if (run.error_occurred) continue;
      bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type != Run::RT_Iteration && !median) continue;
      std::string key = run.run_name.function_name;
      if (!run.run_name.args.empty()) key += "/" + run.run_name.args;
      if (std::find(order_.begin(), order_.end(), key) == order_.end()) order_.push_back(key);
      double ns = run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit) * 1e9;
      // Google Benchmark divides wall time by the iterations of all threads together.
      if (median)
        medians_[key][run.threads] = ns * run.threads;
      else
        ns_[key][run.threads].push_back(ns * run.threads);
      thread_counts_.insert(std::upper_bound(thread_counts_.begin(), thread_counts_.end(),
                                             run.threads),
                            run.threads);
      thread_counts_.erase(std::unique(thread_counts_.begin(), thread_counts_.end()),
                           thread_counts_.end());
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    if (order_.empty()) return;
    std::FILE *out = stdout;
    size_t width = std::strlen("benchmark");
    for (const auto &k : order_) width = std::max(width, k.size());
    std::fprintf(out,
                 "\nCost per call as each thread sees it (median of repetitions), and ratio to\n"
                 "%s at the same thread count, all measured in this run:\n\n",
                 kBaseline);
    std::fprintf(out, "%-*s", static_cast<int>(width), "benchmark");
    for (int t : thread_counts_) std::fprintf(out, " %9s%-2d %7s%-2d", "ns @", t, "x base", t);
    std::fprintf(out, "\n");
    for (const auto &key : order_) {
      std::fprintf(out, "%-*s", static_cast<int>(width), key.c_str());
      for (int t : thread_counts_) {
        double v = Median(key, t), base = Median(kBaseline, t);
        if (v < 0) {
          std::fprintf(out, " %11s %9s", "-", "-");
        } else if (base <= 0) {
          std::fprintf(out, " %11.2f %9s", v, "-");
        } else {
          std::fprintf(out, " %11.2f %9.1f", v, v / base);
        }
      }
      std::fprintf(out, "\n");
    }
    std::fflush(out);
  }

 private:
  double Median(const std::string &key, int threads) {
    auto m = medians_.find(key);
    if (m != medians_.end() && m->second.count(threads)) return m->second[threads];
    auto k = ns_.find(key);
    if (k == ns_.end()) return -1;
    auto t = k->second.find(threads);
    if (t == k->second.end() || t->second.empty()) return -1;
    std::vector<double> v = t->second;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  std::vector<std::string> order_;
  std::vector<int> thread_counts_;
  std::map<std::string, std::map<int, std::vector<double>>> ns_;
  std::map<std::string, std::map<int, double>> medians_;  // Google Benchmark's own aggregate
};

// The value of --benchmark_<name>=VALUE on the command line, or def.
std::string Flag(int argc, char **argv, const char *name, const char *def) {
  std::string prefix = std::string("--benchmark_") + name + "=";
  std::string value = def;
  for (int i = 1; i < argc; i++)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) value = argv[i] + prefix.size();
  return value;
}

}  // namespace

extern "C" {

bench *bench_register(const char *name, bench_fn *fn) {
  benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
      name, [fn](benchmark::State &st) { fn(reinterpret_cast<bench_state *>(&st)); });
  // A fixed iteration count, for counting instructions under callgrind (tools/instructions.sh).
  if (const char *n = std::getenv("BENCH_ITERATIONS")) b->Iterations(std::atoll(n));
  return C(b);
}
bench *bench_arg(bench *b, int64_t arg) { return C(B(b)->Arg(arg)); }
bench *bench_arg_name(bench *b, const char *name) { return C(B(b)->ArgName(name)); }
bench *bench_threads(bench *b, int threads) { return C(B(b)->Threads(threads)); }
bench *bench_thread_range(bench *b, int min_threads, int max_threads) {
  // DenseThreadRange: every count from min to max, not only powers of two.
  return C(B(b)->DenseThreadRange(min_threads, max_threads));
}
bench *bench_use_real_time(bench *b) { return C(B(b)->UseRealTime()); }
bench *bench_setup(bench *b, bench_hook_fn *fn) { return C(B(b)->Setup(HookSlot(fn))); }
bench *bench_teardown(bench *b, bench_hook_fn *fn) { return C(B(b)->Teardown(HookSlot(fn))); }

uint64_t bench_loop_begin(bench_state *s) {
  benchmark::State &st = S(s);
  Pin(st);
  // One batch of all max_iterations: starts the clock (after the start barrier of all threads)
  // and leaves the counting to the C loop. bench_loop_end() then finds nothing left and stops it.
  if (st.max_iterations <= 0 || !st.KeepRunningBatch(st.max_iterations)) return 0;
  return static_cast<uint64_t>(st.max_iterations);
}

void bench_loop_end(bench_state *s) {
  benchmark::State &st = S(s);
  while (st.KeepRunningBatch(1)) {
  }
  Unpin();
}

int64_t bench_range(const bench_state *s, int index) { return S(s).range(index); }
int bench_thread_index(const bench_state *s) { return S(s).thread_index(); }
int bench_thread_count(const bench_state *s) { return S(s).threads(); }
void bench_skip_with_error(bench_state *s, const char *message) { S(s).SkipWithError(message); }

void bench_counter(bench_state *s, const char *name, double value, enum bench_counter_kind kind) {
  benchmark::Counter::Flags flags = benchmark::Counter::kDefaults;
  switch (kind) {
    case BENCH_COUNTER_PLAIN: break;
    case BENCH_COUNTER_AVG_THREADS: flags = benchmark::Counter::kAvgThreads; break;
    case BENCH_COUNTER_PER_ITERATION: flags = benchmark::Counter::kAvgIterations; break;
    case BENCH_COUNTER_RATE: flags = benchmark::Counter::kIsRate; break;
  }
  S(s).counters[name] = benchmark::Counter(value, flags);
}

int bench_main(int argc, char **argv) {
  process_cpus_known = sched_getaffinity(0, sizeof(process_cpus), &process_cpus) == 0;
  std::string format = Flag(argc, argv, "format", "console");
  std::string color = Flag(argc, argv, "color", "auto");
  bool want_color = color == "true" || color == "yes" || color == "1" ||
                    ((color == "auto") && isatty(STDOUT_FILENO));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (format == "console") {
    RatioReporter reporter(want_color ? benchmark::ConsoleReporter::OO_ColorTabular
                                      : benchmark::ConsoleReporter::OO_Tabular);
    benchmark::RunSpecifiedBenchmarks(&reporter);
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  return 0;
}

}  // extern "C"
