// NetmonProcess over a stand-in netmon (fake_netmon.py: it takes the lock and answers `ready`
// as netmon does): started, adopted by a second hostd, and never two of them on one cabinet,
// also when the lock file is replaced under the one that runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"
#include "vitrine/common/process_lock.h"
#include "vitrine/hostd/netmon_process.h"

namespace fs = std::filesystem;
using namespace vitrine::hostd;
using vitrine::testing::TempDir;

namespace {

NetmonLaunch fake_launch(const TempDir& dir) {
  return {VITRINE_TEST_PYTHON, {VITRINE_TEST_HOSTD_DIR "/fake_netmon.py"}, (dir.path / "c.netmon-control").string(),
          (dir.path / "c.netmon.lock").string(), (dir.path / "c.netmon.log").string()};
}

}  // namespace

TEST(NetmonProcess, StartsOneThatHoldsTheLockAndASecondHostdAdoptsIt) {
  TempDir dir;
  NetmonProcess first(fake_launch(dir));
  first.start();
  ASSERT_TRUE(first.alive());
  EXPECT_TRUE(first.holds_lock());
  EXPECT_EQ(first.enforced_sha256(), "fake");

  NetmonProcess second(fake_launch(dir));  // a restarted hostd
  ASSERT_TRUE(second.adopt());
  EXPECT_EQ(second.pid(), first.pid());
  second.stop();
  EXPECT_FALSE(first.alive()) << "stopped by the hostd that adopted it";
}

// The lock stands for "a netmon relays for this cabinet" only while it is on the file at the
// path: a replaced file must not let a second one start beside the first.
TEST(NetmonProcess, AReplacedLockFileNeverLetsTwoRun) {
  TempDir dir;
  NetmonProcess first(fake_launch(dir));
  first.start();
  const pid_t old_pid = first.pid();
  const std::string lock = fake_launch(dir).lock_path;
  fs::remove(lock);
  std::ofstream(lock) << "";
  EXPECT_FALSE(first.holds_lock()) << "hostd's tick sees it and restarts netmon";
  EXPECT_FALSE(vitrine::ProcessLock::holder(lock).has_value());

  NetmonProcess second(fake_launch(dir));  // a restarted hostd
  EXPECT_FALSE(second.adopt()) << "it answers, but does not hold the lock";
  EXPECT_FALSE(first.alive()) << "and was stopped, not left relaying";
  second.start();
  EXPECT_NE(second.pid(), old_pid);
  EXPECT_TRUE(second.holds_lock());
  second.stop();
}

TEST(NetmonProcess, AHolderThatDoesNotAnswerIsStoppedBeforeAnotherStarts) {
  TempDir dir;
  NetmonProcess first(fake_launch(dir));
  first.start();
  const pid_t old_pid = first.pid();
  fs::remove(fake_launch(dir).control_path);  // it holds the lock but cannot be asked
  NetmonProcess second(fake_launch(dir));
  EXPECT_FALSE(second.adopt());
  second.start();
  EXPECT_FALSE(first.alive());
  EXPECT_NE(second.pid(), old_pid);
  second.stop();
}
