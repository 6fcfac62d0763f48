// Running a program without a shell: its output and status, and no descriptor left behind on
// any path, the failing ones included (hostd runs qemu-img and friends for years).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/resource.h>

#include "vitrine/common/subprocess.h"

namespace vitrine::testing {
namespace {

bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

size_t open_descriptors() {
  size_t n = 0;
  for (int fd = 0; fd < 1024; ++fd) n += is_open(fd);
  return n;
}

// The lowest descriptor limit under which exactly `free` numbers are still unused.
rlim_t limit_leaving(int free) {
  int left = free;
  for (int fd = 0;; ++fd)
    if (!is_open(fd) && --left < 0) return static_cast<rlim_t>(fd);
}

TEST(Subprocess, CollectsOutputErrorAndStatus) {
  const ProcessResult r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(Subprocess, AnArgumentIsNeverInterpreted) {
  const ProcessResult r = run_process({"echo", "$(id); `id` | x"});
  EXPECT_EQ(r.out, "$(id); `id` | x\n");
}

TEST(Subprocess, AProgramThatIsNotThereIsAnErrorAndLeavesNoDescriptor) {
  const size_t before = open_descriptors();
  EXPECT_THROW(run_process({"/nonexistent/program"}), std::runtime_error);
  EXPECT_THROW(run_process({}), std::runtime_error);
  EXPECT_EQ(open_descriptors(), before);
}

TEST(Subprocess, RunningOutOfDescriptorsForTheSecondPipeLeavesNoneOfTheFirst) {
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  const size_t before = open_descriptors();
  // Room for the first pipe only.
  rlimit tight = old;
  tight.rlim_cur = limit_leaving(2);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  bool threw = false;
  try {
    run_process({"true"});
  } catch (const std::runtime_error&) {
    threw = true;
  }
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
  EXPECT_TRUE(threw);
  EXPECT_EQ(open_descriptors(), before);
}

}  // namespace
}  // namespace vitrine::testing
