#include "vitrine/netmon/sandbox.h"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

namespace vitrine::netmon {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("cannot drop privileges: " + what + ": " + std::strerror(errno));
}

int last_capability() {
  int last = CAP_LAST_CAP;
  std::ifstream("/proc/sys/kernel/cap_last_cap") >> last;  // a newer kernel may know more
  return last;
}

// Empties the bounding set (so that no executed file could bring a capability back) while the
// process still holds CAP_SETPCAP; a process without it has nothing there to fear of its own.
void drop_bounding_set() {
  for (int cap = 0; cap <= last_capability(); ++cap)
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL && errno != EPERM) fail("PR_CAPBSET_DROP");
}

void switch_user(const std::string& user) {
  errno = 0;
  const passwd* pw = getpwnam(user.c_str());
  if (!pw) {
    if (errno == 0) errno = ENOENT;
    fail("no user " + user + " (the package creates it; by hand: useradd --system --no-create-home "
         "--shell /usr/sbin/nologin --user-group " + user + ")");
  }
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  if (uid == 0) {
    errno = EINVAL;
    fail("user " + user + " is root");
  }
  if (setgroups(0, nullptr) != 0) fail("setgroups");
  if (setresgid(gid, gid, gid) != 0) fail("setresgid");
  // Without PR_SET_KEEPCAPS the kernel empties the permitted and effective sets here.
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) fail("PR_SET_KEEPCAPS");
  if (setresuid(uid, uid, uid) != 0) fail("setresuid");
  uid_t r, e, s;
  if (getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid) fail("the uid did not change");
}

// Whatever the uid: no capability in any set.
void drop_capabilities() {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) fail("clearing ambient capabilities");
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capset, &header, data) != 0) fail("capset");
}

}  // namespace

void enter_sandbox(const SandboxOptions& options) {
  drop_bounding_set();
  if (!options.user.empty()) switch_user(options.user);
  drop_capabilities();
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("PR_SET_NO_NEW_PRIVS");
  install_syscall_filter();
}

}  // namespace vitrine::netmon
