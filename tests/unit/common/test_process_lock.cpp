// The lock that keeps two netmons off one tap, and the process handles hostd watches netmon by.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"
#include "vitrine/common/process_lock.h"

namespace vitrine::testing {
namespace {

// A child that takes the lock, says so on a pipe, and waits to be killed.
pid_t child_holding(const std::string& path) {
  int ready[2];
  if (pipe(ready) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    try {
      ProcessLock lock(path);
      (void)!write(ready[1], "y", 1);
      for (;;) pause();
    } catch (...) {
      _exit(1);
    }
  }
  close(ready[1]);
  char c = 0;
  (void)!read(ready[0], &c, 1);  // blocks until the child holds it (or dies)
  close(ready[0]);
  return c == 'y' ? pid : -1;
}

TEST(ProcessLock, NamesItsHolderRefusesASecondAndIsFreeOnceTheHolderDies) {
  TempDir dir;
  const std::string path = (dir.path / "netmon.lock").string();
  EXPECT_FALSE(ProcessLock::holder(path));  // no file yet
  const pid_t pid = child_holding(path);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(ProcessLock::holder(path), pid);
  try {
    ProcessLock second(path);
    ADD_FAILURE() << "a second lock was taken";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("held by pid " + std::to_string(pid)), std::string::npos) << e.what();
  }
  const int handle = open_process_handle(pid);
  ASSERT_GE(handle, 0);
  EXPECT_FALSE(process_ended(handle));
  kill(pid, SIGKILL);
  EXPECT_TRUE(wait_process_end(handle, 10000));
  waitpid(pid, nullptr, 0);
  close(handle);
  EXPECT_FALSE(ProcessLock::holder(path));  // the kernel let go of it with the process
  ProcessLock mine(path);
  EXPECT_FALSE(ProcessLock::holder(path));  // never the caller itself
}

TEST(ProcessLock, ALockThatNamesNoPidNamesNobody) {
  // An open-file-description lock reports pid -1: hostd must never be handed that to signal
  // (kill(-1) reaches every process).
  TempDir dir;
  const std::string path = (dir.path / "netmon.lock").string();
  const int fd = open(path.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  flock l{};
  l.l_type = F_WRLCK;
  l.l_whence = SEEK_SET;
  ASSERT_EQ(fcntl(fd, F_OFD_SETLK, &l), 0);
  EXPECT_FALSE(ProcessLock::holder(path));
  close(fd);
}

TEST(ProcessLock, NotThroughASymlink) {
  TempDir dir;
  const std::string target = (dir.path / "elsewhere").string(), link = (dir.path / "netmon.lock").string();
  std::filesystem::create_symlink(target, link);
  EXPECT_THROW(ProcessLock lock(link), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(target)) << "nothing was made where the link points";
}

TEST(ProcessHandle, NoProcessIsNoHandle) {
  EXPECT_EQ(open_process_handle(-1), -1);
  EXPECT_TRUE(process_ended(-1));
}

}  // namespace
}  // namespace vitrine::testing
