// The storage thread's scheduling standing (thread_standing.h): the decision as a table, what the
// kernel is asked for with and without the privilege to raise a priority again, and what the
// storage thread runs its batches and its two kinds of jobs under.
#include "storage/thread_standing.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <future>
#include <linux/capability.h>
#include <sched.h>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "storage/storage_thread.h"
#include "test_support.h"

namespace gemgate::storage {
namespace {

using testing::open_test_store;
using testing::TempDir;

int own_nice() {
  return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
}

// May a thread of this process raise its priority back to `nice`? Asked of the kernel itself, on
// a throwaway thread (CAP_SYS_NICE in /proc says nothing in a user namespace, where capable()
// checks the initial one).
bool may_raise_to(int nice);

// Runs `fn` on a thread of its own (a standing changes the calling thread, never the test's).
template <class Fn>
auto on_own_thread(Fn fn) {
  std::packaged_task<decltype(fn())()> task(fn);
  auto result = task.get_future();
  std::thread(std::move(task)).join();
  return result.get();
}

bool may_raise_to(int nice) {
  return on_own_thread([nice] {
    const id_t tid = static_cast<id_t>(gettid());
    return setpriority(PRIO_PROCESS, tid, nice + 1) == 0 &&
           setpriority(PRIO_PROCESS, tid, nice) == 0;
  });
}

// Threads of this process now.
int thread_count() {
  int n = 0;
  for ([[maybe_unused]] const auto& t : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// The policy and nice value of thread `tid` of this process (proc(5): stat fields 41 and 19).
std::pair<int, int> sched_of(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  int nice = -100;
  for (int i = 3; i <= 41 && rest >> field; ++i) {
    if (i == 19) nice = std::stoi(field);
    if (i == 41) return {std::stoi(field), nice};
  }
  return {-1, -100};
}

// The policy and nice value of this process's thread named gg-storage, {-1, -100} when there is
// none.
std::pair<int, int> storage_thread_sched() {
  for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(t.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name == "gg-storage") return sched_of(std::stoi(t.path().filename().string()));
  }
  return {-1, -100};
}

TEST_CASE("standing: the lowest allowed while it keeps up, one higher each time it falls behind") {
  constexpr std::size_t kBatch = 2000, kBehind = 4;
  const auto next = [](Standing now, std::size_t queued, bool may_idle) {
    return next_standing(now, queued, kBatch, kBehind, may_idle);
  };
  // Keeping up: one batch due, a little more by the time the thread runs, or nothing at all.
  for (Standing now : {Standing::kIdle, Standing::kLow, Standing::kNormal}) {
    for (std::size_t queued : {std::size_t{0}, kBatch, kBatch + 37, 2 * kBatch}) {
      CHECK(next(now, queued, true) == Standing::kIdle);
      CHECK(next(now, queued, false) == Standing::kLow);
    }
  }
  // Between the thresholds nothing moves, so a queue hovering at one does not flap.
  for (Standing now : {Standing::kIdle, Standing::kLow, Standing::kNormal}) {
    CHECK(next(now, 2 * kBatch + 1, true) == now);
    CHECK(next(now, kBehind * kBatch - 1, true) == now);
  }
  // Behind: one step up (from SCHED_IDLE to nice +5 first, then the process's own).
  CHECK(next(Standing::kIdle, kBehind * kBatch, true) == Standing::kLow);
  CHECK(next(Standing::kLow, kBehind * kBatch, true) == Standing::kNormal);
  CHECK(next(Standing::kLow, 50'000, false) == Standing::kNormal);
  CHECK(next(Standing::kNormal, 50'000, true) == Standing::kNormal);
}

// What a ThreadStanding(5) on a new thread reports and gets; run with and without privilege.
struct Observed {
  bool may_idle = false;
  Standing first = Standing::kNormal;
  int first_nice = 0;
  bool idle_ok = false;
  int idle_policy = -1;
  bool normal_ok = false;
  int normal_policy = -1;
  int normal_nice = 0;
  bool low_ok = false;
  int low_nice = 0;
};

Observed observe_standing() {
  return on_own_thread([] {
    Observed o;
    ThreadStanding s(5);
    o.may_idle = s.may_idle();
    o.first = s.current();
    o.first_nice = own_nice();
    o.idle_ok = s.apply(Standing::kIdle);
    o.idle_policy = sched_getscheduler(0);
    o.normal_ok = s.apply(Standing::kNormal);
    o.normal_policy = sched_getscheduler(0);
    o.normal_nice = own_nice();
    o.low_ok = s.apply(Standing::kLow);
    o.low_nice = own_nice();
    return o;
  });
}

TEST_CASE("standing: SCHED_IDLE only where the thread may leave it again") {
  const int base = own_nice();
  if (base > 13) return;  // nothing below to test: the process already runs near nice 19
  const Observed o = observe_standing();
  CHECK(o.first == Standing::kLow);
  CHECK(o.first_nice == base + 5);
  if (may_raise_to(base)) {
    CHECK(o.may_idle);
    CHECK(o.idle_ok);
    CHECK(o.idle_policy == SCHED_IDLE);
    CHECK(o.normal_ok);
    CHECK(o.normal_policy == SCHED_OTHER);
    CHECK(o.normal_nice == base);
  } else {
    CHECK_FALSE(o.may_idle);
    CHECK_FALSE(o.idle_ok);  // never entered: it could not come back
    CHECK(o.idle_policy == SCHED_OTHER);
    CHECK_FALSE(o.normal_ok);  // refused by the kernel, and said so
    CHECK(o.normal_nice == base + 5);
  }
  CHECK(o.low_ok);
  CHECK(o.low_nice == base + 5);
  CHECK(own_nice() == base);  // the test's own thread is untouched
}

// Drops CAP_SYS_NICE from this process's effective set and RLIMIT_NICE to 0: a process without
// the privilege (only ever called in a forked child).
bool drop_nice_privilege() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  data[CAP_SYS_NICE / 32].effective &= ~(1u << (CAP_SYS_NICE % 32));
  if (syscall(SYS_capset, &header, data) != 0) return false;
  rlimit none{0, 0};
  return setrlimit(RLIMIT_NICE, &none) == 0;
}

TEST_CASE("standing: without the privilege it stays at nice +5 and never enters SCHED_IDLE") {
  const int base = own_nice();
  if (base > 13) return;
  REQUIRE(thread_count() == 1);  // a fork copies only this thread: nothing may hold a lock
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Exit codes: 10 + which check failed; 0 all held.
    if (!drop_nice_privilege()) _exit(10);
    const Observed o = observe_standing();
    if (o.may_idle || o.first != Standing::kLow || o.first_nice != base + 5) _exit(11);
    if (o.idle_ok || o.idle_policy != SCHED_OTHER) _exit(12);
    if (o.normal_ok || o.normal_nice != base + 5) _exit(13);
    if (!o.low_ok || o.low_nice != base + 5) _exit(14);
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE(
    "storage thread: batches under the lowest standing, awaited jobs never under SCHED_IDLE") {
  const int base = own_nice();
  if (base > 13) return;
  const bool privileged = may_raise_to(base);
  const int lowest = privileged ? SCHED_IDLE : SCHED_OTHER;
  TempDir dir;
  StorageThread st(open_test_store(dir.file("gemgate.db")));
  REQUIRE(st.flush().ok());  // the thread has started and taken its standing
  // An awaited job (the default: someone waits on it) and a background one.
  std::promise<int> awaited, background;
  REQUIRE(st.submit([&](Store&) { awaited.set_value(sched_getscheduler(0)); }));
  REQUIRE(st.submit([&](Store&) { background.set_value(sched_getscheduler(0)); },
                    StorageThread::JobKind::kBackground));
  CHECK(awaited.get_future().get() == SCHED_OTHER);
  CHECK(background.get_future().get() == lowest);
  // Between jobs and batches it is back at the lowest standing, at nice +5 in either case (read
  // from /proc: the thread restores its standing just after the job that answered returns).
  std::pair<int, int> sched;
  for (int i = 0; i < 500 && (sched = storage_thread_sched()).first != lowest; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(sched.first == lowest);
  CHECK(sched.second == base + 5);
}

TEST_CASE("standing: another thread lifts the owner out of SCHED_IDLE, and only out of it") {
  const int base = own_nice();
  if (base > 13 || !may_raise_to(base)) return;  // kIdle is never used without the privilege
  std::promise<ThreadStanding*> made;
  std::promise<void> done;
  std::promise<pid_t> tid;
  std::thread owner([&] {
    ThreadStanding s(5);
    REQUIRE(s.apply(Standing::kIdle));
    tid.set_value(gettid());
    made.set_value(&s);
    done.get_future().wait();  // kept alive, asleep, while the test looks at it
  });
  const pid_t owner_tid = tid.get_future().get();
  ThreadStanding* s = made.get_future().get();
  const auto policy = [&] { return sched_of(owner_tid).first; };
  CHECK(policy() == SCHED_IDLE);
  CHECK(s->lift_from_idle());
  CHECK(policy() == SCHED_OTHER);
  CHECK(sched_of(owner_tid).second == base + 5);
  CHECK(s->current() == Standing::kLow);
  CHECK_FALSE(s->lift_from_idle());  // not in kIdle: nothing to do
  CHECK(sched_of(owner_tid).second == base + 5);
  done.set_value();
  owner.join();
}

TEST_CASE("storage thread: a worker that finds the queue behind lifts a starved thread at once") {
  const int base = own_nice();
  if (base > 13 || !may_raise_to(base)) return;
  TempDir dir;
  StorageThread::Options o;
  o.flush_interval = std::chrono::hours(1);
  o.batch_rows = 10;
  o.behind_batches = 4;
  StorageThread st(open_test_store(dir.file("gemgate.db")), o);
  REQUIRE(st.flush().ok());
  // The thread busy in a background job under SCHED_IDLE: as good as starved, for the queue.
  std::promise<void> started, release;
  REQUIRE(st.submit(
      [&](Store&) {
        started.set_value();
        release.get_future().wait();
      },
      StorageThread::JobKind::kBackground));
  started.get_future().wait();
  CHECK(storage_thread_sched().first == SCHED_IDLE);
  for (int i = 0; i < 39; ++i) {
    RequestLogRow r;
    r.time_ms = 1'000 + i;
    r.status = 200;
    st.append_request_log(std::move(r));
  }
  CHECK(storage_thread_sched().first == SCHED_IDLE);  // 3.9 batches: not behind yet
  RequestLogRow last;
  last.time_ms = 2'000;
  last.status = 200;
  st.append_request_log(std::move(last));  // the 4th batch: this call lifts it
  CHECK(storage_thread_sched().first == SCHED_OTHER);
  CHECK(storage_thread_sched().second == base + 5);
  release.set_value();
  REQUIRE(st.flush().ok());
  CHECK(st.counters().rows_written == 40);
}

TEST_CASE("storage thread: Options::nice 0 keeps it at the process's own priority") {
  TempDir dir;
  StorageThread::Options same;
  same.nice = 0;
  StorageThread st(open_test_store(dir.file("gemgate.db")), same);
  REQUIRE(st.flush().ok());
  const auto [policy, nice] = storage_thread_sched();
  CHECK(policy == SCHED_OTHER);
  CHECK(nice == own_nice());
}

}  // namespace
}  // namespace gemgate::storage
