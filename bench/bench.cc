/* SPDX-License-Identifier: BSD-2-Clause */
// The C API of bench.h, on Google Benchmark 1.7.
#include "bench/bench.h"
#include "bench/table.h"

#include <benchmark/benchmark.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using bench_table::Cell;
using bench_table::Of;
using bench_table::Pad;
using bench_table::Spread;
using bench_table::Width;
using bench_table::WithSpread;

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

// ---- What was registered -----------------------------------------------------------------------

constexpr const char kWorkSuffix[] = "/work";

struct HotPath {
  benchmark::internal::Benchmark *twin = nullptr;  // "<name>/work", or none
  int max_threads = BENCH_MAX_THREADS;
};

// Filled by registrations, which run in constructors before this file's own statics may exist:
// built on first use.
struct Registry {
  std::map<benchmark::internal::Benchmark *, HotPath> hot_paths;  // keyed by the plain row
  std::vector<benchmark::internal::Benchmark *> hot_order;
  std::set<std::string> hot_names;                // every hot-path row, twins included
  std::map<std::string, std::string> twin_names;  // "<name>/work" -> "<name>"
  std::string baseline_name;
};
Registry &Reg() {
  static Registry r;
  return r;
}
bench_loop_fn *baseline_plain, *baseline_work;

// Applies a registration call to a row and, for a hot path, to its work twin.
template <typename F>
bench *Each(bench *b, F f) {
  f(B(b));
  auto h = Reg().hot_paths.find(B(b));
  if (h != Reg().hot_paths.end() && h->second.twin) f(h->second.twin);
  return b;
}

// ---- One run of a row, per thread --------------------------------------------------------------

using Clock = std::chrono::steady_clock;

// What the thread running a row's function knows about it. Set on entry to every row.
struct RowRun {
  bool hot = false;       // a hot-path row: own clock, pairing
  bool work = false;      // a "/work" twin
  bool asked = false;     // its loop called bench_work()
  bench_loop_fn *pair = nullptr;
  std::atomic<double> *last_s = nullptr;  // the row's loop took this long last time
  uint64_t n = 0;
  double base_s = 0;      // the paired loop's seconds (wall, CPU) and iterations so far
  double base_cpu_s = 0;
  uint64_t base_n = 0;
  Clock::time_point start;
  double start_cpu = 0;
  bool timing = false;    // between bench_loop_begin and bench_loop_end, with n > 0
};
thread_local RowRun row_run;
bool pairing = true;  // off under tools/instructions.sh (BENCH_PAIRING=0): only the row counts
bool cpu_clock;       // the table by each thread's CPU time (--bench_clock=cpu), not wall time

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// This thread's CPU time: unlike wall time, not counted while another process has the CPU.
double ThreadCpuSeconds() {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// Runs the paired loop for at least `seconds` of wall time, in chunks long enough (>= 20 us)
// that reading the clock between them costs nothing, and adds what it did to the row's tally.
// A window of time, not a count: with more threads than CPUs the row's loop is time-sliced,
// and the paired loop must run as long, all threads at once, to be time-sliced alike (timed by
// iterations, a short loop finished within one slice and read as if it had a CPU to itself).
// With more threads than CPUs, at least kSliceWindow: many scheduler time slices (a few ms each),
// so that where the slices fall averages out.
constexpr double kSliceWindow = 0.02;

void PairedWindow(RowRun &r, double seconds, bool oversubscribed) {
  if (oversubscribed) seconds = std::max(seconds, kSliceWindow);
  uint64_t chunk = 64;
  double cpu0 = ThreadCpuSeconds();
  Clock::time_point t0 = Clock::now(), t = t0;
  do {
    Clock::time_point c0 = t;
    r.pair(chunk);
    r.base_n += chunk;
    t = Clock::now();
    if (Seconds(t - c0) < 20e-6 && chunk < (uint64_t(1) << 40)) chunk *= 2;
  } while (Seconds(t - t0) < seconds);
  r.base_s += Seconds(t - t0);
  r.base_cpu_s += ThreadCpuSeconds() - cpu0;
}

benchmark::internal::Benchmark *RegisterRow(const std::string &name, bench_fn *fn, bool hot,
                                            bool work) {
  benchmark::internal::Benchmark *b =
      benchmark::RegisterBenchmark(name.c_str(), [fn, hot, work, last = new std::atomic<double>(0)](
                                                     benchmark::State &st) {
        row_run = RowRun();
        row_run.hot = hot;
        row_run.work = work;
        row_run.last_s = last;
        if (hot && pairing) row_run.pair = work ? baseline_work : baseline_plain;
        fn(reinterpret_cast<bench_state *>(&st));
      });
  // A fixed iteration count, for counting instructions under callgrind (tools/instructions.sh).
  if (const char *n = std::getenv("BENCH_ITERATIONS")) b->Iterations(std::atoll(n));
  // The spread of every row: min and max over the repetitions, beside mean, median, stddev, cv.
  b->ComputeStatistics("min", [](const std::vector<double> &v) {
    return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
  });
  b->ComputeStatistics("max", [](const std::vector<double> &v) {
    return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
  });
  if (hot) {
    b->UseRealTime();
    Reg().hot_names.insert(name);
  }
  return b;
}

// ---- Pinning -----------------------------------------------------------------------------------

// Thread k of a T-thread run goes to the (k mod C)-th of the C CPUs this process may use: one
// CPU each while T <= C, round robin beyond (T > C: every CPU gets T/C threads, never all one).
// "May use" is the set the process started with, read once in bench_main(): a benchmark that
// pins its own thread and forgets to restore it must not shrink the set for every later run
// (it did: later 2-thread runs then shared one CPU and measured exactly twice the 1-thread cost).
cpu_set_t process_cpus;
int process_cpu_count;

void Pin(const benchmark::State &st) {
  if (process_cpu_count == 0) return;
  int want = st.thread_index() % process_cpu_count;
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
  if (process_cpu_count == 0) return;
  pthread_setaffinity_np(pthread_self(), sizeof(process_cpus), &process_cpus);
}

// 1, 2, 4, ... below the CPU count, the CPU count, and twice it.
std::vector<int> DefaultSweep(int cpus) {
  std::vector<int> t;
  for (int p = 1; p < cpus; p *= 2) t.push_back(p);
  t.push_back(cpus);
  t.push_back(2 * cpus);
  return t;
}

// ---- Instructions per call (tools/instructions.sh's file) ---------------------------------------

// This program's GNU build id, as readelf -n prints it: the same bytes, the same counts.
std::string OwnBuildId() {
  std::string id;
  dl_iterate_phdr(
      [](struct dl_phdr_info *info, size_t, void *out) -> int {
        for (int i = 0; i < info->dlpi_phnum; i++) {
          const ElfW(Phdr) &ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_NOTE) continue;
          const char *p = reinterpret_cast<const char *>(info->dlpi_addr + ph.p_vaddr);
          const char *end = p + ph.p_memsz;
          while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = reinterpret_cast<const ElfW(Nhdr) *>(p);
            const char *name = p + sizeof(*nh);
            const unsigned char *desc =
                reinterpret_cast<const unsigned char *>(name + ((nh->n_namesz + 3) & ~3u));
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !std::strcmp(name, "GNU")) {
              std::string &s = *static_cast<std::string *>(out);
              for (unsigned k = 0; k < nh->n_descsz; k++) {
                char hex[3];
                std::snprintf(hex, sizeof(hex), "%02x", desc[k]);
                s += hex;
              }
              return 1;
            }
            p = reinterpret_cast<const char *>(desc) + ((nh->n_descsz + 3) & ~3u);
          }
        }
        return 1;  // the first object is the program itself
      },
      &id);
  return id;
}

struct Instructions {
  std::string file, note;
  std::map<std::string, std::string> per_row;
};

// Reads "# build-id HEX" then "NAME<TAB>COUNT" lines; keeps them only if HEX is this build's.
Instructions ReadInstructions(const std::string &file) {
  Instructions in;
  in.file = file;
  std::ifstream f(file);
  if (!f) {
    in.note = "instr: none (bazel run //bench:instructions counts them for this build)";
    return in;
  }
  std::string line, id, own = OwnBuildId();
  std::map<std::string, std::string> rows;
  while (std::getline(f, line)) {
    if (line.rfind("# build-id ", 0) == 0) id = line.substr(11);
    size_t tab = line.find('\t');
    if (line[0] != '#' && tab != std::string::npos)
      rows[line.substr(0, tab)] = line.substr(tab + 1);
  }
  if (id.empty() || id != own) {
    in.note = "instr: not shown: " + file + " was counted on another build\n  (build id " +
              (id.empty() ? "none" : id.substr(0, 12)) + ", this one " + own.substr(0, 12) +
              "); bazel run //bench:instructions recounts";
    return in;
  }
  in.per_row = rows;
  in.note = "instr: instructions per call at 1 thread, loop included, counted by callgrind\n"
            "  (tools/instructions.sh) on this very build (build id " + own.substr(0, 12) +
            "), from " + file;
  return in;
}

// ---- The cost table ----------------------------------------------------------------------------

// Per repetition (when the console gets them) or Google Benchmark's aggregates (when it gets
// only those: the default), keyed by figure.
struct Samples {
  std::map<std::string, std::vector<double>> rep;
  std::map<std::string, std::map<std::string, double>> agg;  // figure -> median/min/max

  Spread Get(const std::string &fig) const {
    auto a = agg.find(fig);
    if (a != agg.end() && a->second.count("median") && a->second.count("min") &&
        a->second.count("max")) {
      Spread s;
      s.median = a->second.at("median");
      s.min = a->second.at("min");
      s.max = a->second.at("max");
      return s;
    }
    auto r = rep.find(fig);
    return r == rep.end() ? Spread() : Of(r->second);
  }
};

class TableReporter : public benchmark::ConsoleReporter {
 public:
  TableReporter(OutputOptions opts, Instructions instr)
      : ConsoleReporter(opts), instr_(std::move(instr)) {}

  void ReportRuns(const std::vector<Run> &runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run &run : runs) {
      if (run.error_occurred) continue;
      bool agg = run.run_type == Run::RT_Aggregate;
      if (agg && run.aggregate_name != "median" && run.aggregate_name != "min" &&
          run.aggregate_name != "max")
        continue;
      std::string key = run.run_name.function_name;
      if (!run.run_name.args.empty()) key += "/" + run.run_name.args;
      if (std::find(order_.begin(), order_.end(), key) == order_.end()) order_.push_back(key);
      int t = static_cast<int>(run.threads);
      if (std::find(threads_.begin(), threads_.end(), t) == threads_.end()) {
        threads_.push_back(t);
        std::sort(threads_.begin(), threads_.end());
      }
      Samples &s = samples_[key][t];
      // Google Benchmark divides wall time by the iterations of all threads together.
      double ns = run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit) *
                  1e9 * run.threads;
      std::vector<std::pair<std::string, double>> figs = {{"ns", ns}};
      for (const char *c : {"own_ns", "base_ns", "x_base", "own_cpu_ns", "base_cpu_ns",
                            "x_base_cpu"}) {
        auto it = run.counters.find(c);
        if (it != run.counters.end()) figs.emplace_back(c, it->second.value);
      }
      for (auto &f : figs) {
        if (agg)
          s.agg[f.first][run.aggregate_name] = f.second;
        else
          s.rep[f.first].push_back(f.second);
      }
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    if (order_.empty()) return;
    std::FILE *out = stdout;
    std::fprintf(out, "\n");
    for (int t : threads_) HotPathTable(out, t);
    WriterTable(out);
    std::fflush(out);
  }

 private:
  Cell Get(const std::string &key, int t) {
    Cell c;
    auto k = samples_.find(key);
    if (k == samples_.end() || !k->second.count(t)) return c;
    const Samples &s = k->second.at(t);
    c.ns = s.Get("ns");
    c.own = s.Get(cpu_clock ? "own_cpu_ns" : "own_ns");
    c.base = s.Get(cpu_clock ? "base_cpu_ns" : "base_ns");
    c.x = s.Get(cpu_clock ? "x_base_cpu" : "x_base");
    if (!c.own.ok()) c.own = c.ns;
    return c;
  }

  bool Hot(const std::string &key) { return Reg().hot_names.count(key) != 0; }

  void HotPathTable(std::FILE *out, int t) {
    std::vector<std::string> rows;
    bool any_work = false;
    for (const auto &key : order_) {
      if (!Hot(key)) continue;
      auto tw = Reg().twin_names.find(key);
      const std::string &plain = tw == Reg().twin_names.end() ? key : tw->second;
      if (std::find(rows.begin(), rows.end(), plain) == rows.end() &&
          (Get(plain, t).ns.ok() || Get(plain + kWorkSuffix, t).ns.ok()))
        rows.push_back(plain);
      any_work |= tw != Reg().twin_names.end() && Get(key, t).ns.ok();
    }
    if (rows.empty()) return;
    bool instr = t == 1 && !instr_.per_row.empty();
    size_t width = std::strlen("benchmark");
    for (const auto &r : rows) width = std::max(width, Width(r));
    std::string over = t > process_cpu_count && process_cpu_count
                           ? " (more threads than the " + std::to_string(process_cpu_count) +
                                 " CPUs: they preempt each other)"
                           : "";
    std::fprintf(out, "Hot path at %d thread%s%s\n", t, t == 1 ? "" : "s", over.c_str());
    if (!legend_done_) Legend(out, any_work);
    legend_done_ = true;
    std::string head = Pad("benchmark", width) + (instr ? Pad("instr", 7, true) : "") + "  " +
                       Pad("ns", 20) + Pad("×base", 20) +
                       (any_work ? Pad("work ns", 20) + "+work" : "");
    std::fprintf(out, "%s\n", head.c_str());
    for (const auto &r : rows) {
      Cell c = Get(r, t), w = Get(r + kWorkSuffix, t);
      std::string line = Pad(r, width);
      if (instr) {
        auto i = instr_.per_row.find(r);
        line += Pad(i == instr_.per_row.end() ? "-" : i->second, 7, true);
      }
      line += "  " + Pad(WithSpread(c.own), 20) + Pad(bench_table::Ratio(c), 20);
      if (any_work) line += Pad(WithSpread(w.own), 20) + bench_table::Overhead(w);
      std::fprintf(out, "%s\n", line.c_str());
    }
    std::fprintf(out, "\n");
  }

  void Legend(std::FILE *out, bool work) {
    if (cpu_clock)
      std::fprintf(out, "  By each thread's CPU time (--bench_clock=cpu): time other programs\n"
                        "  or other benchmark threads had the CPU is not counted.\n");
    std::fprintf(out,
                 "  ns: per call as each thread sees it, median (min–max) over the repetitions.\n"
                 "  ×base: median (min–max) of each repetition's ratio to %s's loop,\n"
                 "  run by the same threads just before and just after the row, in the same\n"
                 "  repetition; \"≈\" where the row's ns and that loop's overlap.\n",
                 Reg().baseline_name.empty() ? "the baseline" : Reg().baseline_name.c_str());
    if (work)
      std::fprintf(out,
                   "  work ns, +work: the section also hashes %d bytes; +work is the overhead\n"
                   "  over the same unprotected section, as a percentage of it.\n",
                   BENCH_WORK_BYTES);
    std::fprintf(out, "  %s\n", instr_.note.c_str());
  }

  void WriterTable(std::FILE *out) {
    std::vector<std::string> rows;
    size_t width = std::strlen("benchmark");
    for (const auto &key : order_)
      if (!Hot(key)) {
        rows.push_back(key);
        width = std::max(width, Width(key));
      }
    if (rows.empty()) return;
    std::fprintf(out,
                 "Writer side and other rows: ns per operation, median (min–max) over the "
                 "repetitions\n%s  %7s  %s\n",
                 Pad("benchmark", width).c_str(), "threads", "ns");
    for (const auto &r : rows)
      for (int t : threads_) {
        Cell c = Get(r, t);
        if (c.ns.ok())
          std::fprintf(out, "%s  %7d  %s\n", Pad(r, width).c_str(), t,
                       WithSpread(c.ns).c_str());
      }
  }

  Instructions instr_;
  bool legend_done_ = false;
  std::vector<std::string> order_;
  std::vector<int> threads_;
  std::map<std::string, std::map<int, Samples>> samples_;
};

// ---- Command line ------------------------------------------------------------------------------

bool HasFlag(const std::vector<std::string> &args, const std::string &name) {
  std::string prefix = "--benchmark_" + name;
  for (const auto &a : args)
    if (a == prefix || a.rfind(prefix + "=", 0) == 0) return true;
  return false;
}

// The value of --benchmark_<name>=VALUE on the command line, or def.
std::string Flag(const std::vector<std::string> &args, const char *name, const char *def) {
  std::string prefix = std::string("--benchmark_") + name + "=";
  std::string value = def;
  for (const auto &a : args)
    if (a.rfind(prefix, 0) == 0) value = a.substr(prefix.size());
  return value;
}

// "1,2,8" -> {1, 2, 8}; empty on any error.
std::vector<int> ParseThreads(const std::string &list) {
  std::vector<int> t;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty() || item.size() > 4 ||
        item.find_first_not_of("0123456789") != std::string::npos)
      return {};
    int n = std::atoi(item.c_str());
    if (n < 1 || n > BENCH_MAX_THREADS) return {};
    if (std::find(t.begin(), t.end(), n) == t.end()) t.push_back(n);
  }
  return t;
}

}  // namespace

extern "C" {

bench *bench_register(const char *name, bench_fn *fn) {
  return C(RegisterRow(name, fn, false, false));
}

bench *bench_register_hot_path(const char *name, bench_fn *fn, int work_twin) {
  benchmark::internal::Benchmark *b = RegisterRow(name, fn, true, false);
  HotPath h;
  if (work_twin) {
    std::string twin = std::string(name) + kWorkSuffix;
    h.twin = RegisterRow(twin, fn, true, true);
    Reg().twin_names[twin] = name;
  }
  Reg().hot_paths[b] = h;
  Reg().hot_order.push_back(b);
  return C(b);
}

bench *bench_max_threads(bench *b, int max) {
  auto h = Reg().hot_paths.find(B(b));
  if (h != Reg().hot_paths.end()) h->second.max_threads = std::min(max, BENCH_MAX_THREADS);
  return b;
}

bench *bench_register_baseline(const char *name, bench_loop_fn *plain, bench_loop_fn *work) {
  // Two baselines linked into one binary: which one a row was paired with would be a guess.
  if (baseline_plain) {
    std::fprintf(stderr, "bench: a second baseline, %s, after %s\n", name,
                 Reg().baseline_name.c_str());
    std::abort();
  }
  Reg().baseline_name = name;
  baseline_plain = plain;
  baseline_work = work;
  // The row runs the very loops the pairing runs.
  return bench_register_hot_path(
      name,
      [](bench_state *s) {
        bench_loop_fn *loop = bench_work(s) ? baseline_work : baseline_plain;
        uint64_t n = bench_loop_begin(s);
        loop(n);
        bench_loop_end(s);
      },
      1);
}

bench *bench_arg(bench *b, int64_t arg) {
  return Each(b, [arg](benchmark::internal::Benchmark *x) { x->Arg(arg); });
}
bench *bench_arg_name(bench *b, const char *name) {
  return Each(b, [name](benchmark::internal::Benchmark *x) { x->ArgName(name); });
}
bench *bench_threads(bench *b, int threads) {
  return Each(b, [threads](benchmark::internal::Benchmark *x) { x->Threads(threads); });
}
bench *bench_thread_range(bench *b, int min_threads, int max_threads) {
  // DenseThreadRange: every count from min to max, not only powers of two.
  return Each(b, [=](benchmark::internal::Benchmark *x) {
    x->DenseThreadRange(min_threads, max_threads);
  });
}
bench *bench_use_real_time(bench *b) {
  return Each(b, [](benchmark::internal::Benchmark *x) { x->UseRealTime(); });
}
bench *bench_setup(bench *b, bench_hook_fn *fn) {
  auto slot = HookSlot(fn);
  return Each(b, [slot](benchmark::internal::Benchmark *x) { x->Setup(slot); });
}
bench *bench_teardown(bench *b, bench_hook_fn *fn) {
  auto slot = HookSlot(fn);
  return Each(b, [slot](benchmark::internal::Benchmark *x) { x->Teardown(slot); });
}

int bench_work(bench_state *s) {
  (void)s;
  row_run.asked = true;
  return row_run.work ? BENCH_WORK_BYTES : 0;
}

uint64_t bench_loop_begin(bench_state *s) {
  benchmark::State &st = S(s);
  RowRun &r = row_run;
  Pin(st);
  if (r.work && !r.asked)
    st.SkipWithError("a /work row whose loop does no work (it never called bench_work): "
                     "use SCENARIO_BENCH_LOOP, or register with scenario_bench_register_no_work");
  // One batch of all max_iterations: starts the clock (after the start barrier of all threads)
  // and leaves the counting to the C loop. bench_loop_end() then finds nothing left and stops it.
  if (st.max_iterations <= 0 || !st.KeepRunningBatch(st.max_iterations)) return 0;
  r.n = static_cast<uint64_t>(st.max_iterations);
  if (r.pair) {
    // The paired loop for half the row's last duration now and half this one's after it, all
    // threads at once: drift within the repetition cancels. (The first call of a row, one of
    // Google Benchmark's short runs to size the next, has only the half after.)
    st.PauseTiming();
    double last = r.last_s->load(std::memory_order_relaxed);
    if (last > 0) PairedWindow(r, last / 2, st.threads() > process_cpu_count);
    st.ResumeTiming();
  }
  r.timing = r.hot;
  r.start_cpu = ThreadCpuSeconds();
  r.start = Clock::now();
  return r.n;
}

void bench_loop_end(bench_state *s) {
  benchmark::State &st = S(s);
  RowRun &r = row_run;
  Clock::time_point end = Clock::now();
  double end_cpu = ThreadCpuSeconds();
  // Stops Google Benchmark's clock, then waits for every thread (the stop barrier).
  while (st.KeepRunningBatch(1)) {
  }
  if (r.timing && !st.error_occurred()) {
    double own = Seconds(end - r.start) / r.n * 1e9;
    double own_cpu = (end_cpu - r.start_cpu) / r.n * 1e9;
    st.counters["own_ns"] = benchmark::Counter(own, benchmark::Counter::kAvgThreads);
    st.counters["own_cpu_ns"] = benchmark::Counter(own_cpu, benchmark::Counter::kAvgThreads);
    st.counters["work_bytes"] = r.work ? BENCH_WORK_BYTES : 0;
    st.counters["cpus"] = process_cpu_count;
    if (r.pair) {
      double took = Seconds(end - r.start);
      r.last_s->store(took, std::memory_order_relaxed);
      PairedWindow(r, took / 2, st.threads() > process_cpu_count);
      double base = r.base_s / r.base_n * 1e9;
      st.counters["base_ns"] = benchmark::Counter(base, benchmark::Counter::kAvgThreads);
      st.counters["x_base"] = benchmark::Counter(own / base, benchmark::Counter::kAvgThreads);
      // The same by CPU time: what the row costs while it runs, however busy the machine is.
      double base_cpu = r.base_cpu_s / r.base_n * 1e9;
      st.counters["base_cpu_ns"] = benchmark::Counter(base_cpu, benchmark::Counter::kAvgThreads);
      st.counters["x_base_cpu"] =
          benchmark::Counter(own_cpu / base_cpu, benchmark::Counter::kAvgThreads);
    }
  }
  r.timing = false;
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
  if (sched_getaffinity(0, sizeof(process_cpus), &process_cpus) == 0)
    process_cpu_count = CPU_COUNT(&process_cpus);
  if (const char *p = std::getenv("BENCH_PAIRING")) pairing = std::strcmp(p, "0") != 0;

  // Our own flags (--bench_*) come out before Google Benchmark sees the rest; defaults go in.
  std::vector<std::string> args;
  bool threads_given = false;
  std::string threads_flag, instr_file = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR")
                                                                           : "/tmp") +
                                         "/teardown-instructions.tsv";
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--help")
      std::printf("This program's own flags, beside Google Benchmark's (below):\n"
                  "  --bench_threads=1,2,8      hot-path thread counts (default: 1, 2, 4, ... "
                  "below the\n"
                  "                             CPU count, the CPU count, twice it)\n"
                  "  --bench_clock=wall|cpu     the table by wall time (default) or each "
                  "thread's CPU time\n"
                  "  --bench_instructions=FILE  instructions per call from tools/instructions.sh"
                  "\n                             (default %s/teardown-instructions.tsv)\n\n",
                  std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    if (a.rfind("--bench_threads=", 0) == 0)
      threads_flag = a.substr(16), threads_given = true;
    else if (a == "--bench_clock=cpu" || a == "--bench_clock=wall")
      cpu_clock = a == "--bench_clock=cpu";
    else if (a.rfind("--bench_instructions=", 0) == 0)
      instr_file = a.substr(21);
    else
      args.push_back(a);
  }
  if (!HasFlag(args, "repetitions")) args.push_back("--benchmark_repetitions=5");
  if (!HasFlag(args, "min_time")) args.push_back("--benchmark_min_time=0.05");
  // The console gets the aggregates only; a JSON or CSV reporter every repetition.
  if (Flag(args, "format", "console") == "console" && !HasFlag(args, "display_aggregates_only") &&
      !HasFlag(args, "report_aggregates_only"))
    args.push_back("--benchmark_display_aggregates_only=true");

  std::vector<int> sweep = DefaultSweep(std::max(process_cpu_count, 1));
  if (threads_given) {
    sweep = ParseThreads(threads_flag);
    if (sweep.empty()) {
      std::fprintf(stderr, "bench: --bench_threads takes thread counts 1..%d, e.g. 1,2,8\n",
                   BENCH_MAX_THREADS);
      return 1;
    }
  }
  for (auto *b : Reg().hot_order) {
    const HotPath &h = Reg().hot_paths[b];
    for (int t : sweep) {
      if (t > h.max_threads) continue;
      b->Threads(t);
      if (h.twin) h.twin->Threads(t);
    }
  }

  std::vector<char *> av = {argv[0]};
  for (auto &a : args) av.push_back(&a[0]);
  int ac = static_cast<int>(av.size());
  av.push_back(nullptr);
  std::string format = Flag(args, "format", "console");
  std::string color = Flag(args, "color", "auto");
  bool want_color = color == "true" || color == "yes" || color == "1" ||
                    ((color == "auto") && isatty(STDOUT_FILENO));
  benchmark::Initialize(&ac, av.data());
  if (benchmark::ReportUnrecognizedArguments(ac, av.data())) return 1;
  if (format == "console") {
    TableReporter reporter(want_color ? benchmark::ConsoleReporter::OO_ColorTabular
                                      : benchmark::ConsoleReporter::OO_Tabular,
                           ReadInstructions(instr_file));
    benchmark::RunSpecifiedBenchmarks(&reporter);
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  return 0;
}

}  // extern "C"
