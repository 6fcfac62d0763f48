#include "smb_attributes.h"

#include <string>
#include <string_view>

namespace vitrine::netmon::smb {

namespace {

// Windows refuses share names longer than 80 characters.
constexpr size_t kMaxShareName = 80;

std::string share_problem(const std::string& t) {
  if (t.size() > kMaxShareName) return "a share name is at most 80 characters";
  for (unsigned char c : t)
    if (c < 0x20 || c == 0x7f || std::string_view("\"/\\[]:|<>+=;,").find(static_cast<char>(c)) != std::string_view::npos)
      return "a share name has no control characters and none of \" / \\ [ ] : | < > + = ; , (got '" + t + "')";
  return "";
}

// SMB1 is the NT LM 0.12 dialect XP speaks; the others are SMB2/3 dialect revisions.
const std::vector<std::string>& dialects() {
  static const std::vector<std::string> all = {"SMB1", "2.0.2", "2.1", "3.0", "3.0.2", "3.1.1"};
  return all;
}
// SMB1 ([MS-CIFS] 2.2.2.1) and SMB2 ([MS-SMB2] 2.2.1) commands, as the specifications name them.
const std::vector<std::string>& commands() {
  static const std::vector<std::string> all = {
    // SMB2/3
    "NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT", "CREATE", "CLOSE",
    "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL", "ECHO", "QUERY_DIRECTORY",
    "CHANGE_NOTIFY", "QUERY_INFO", "SET_INFO", "OPLOCK_BREAK",
    // SMB1 only
    "CREATE_DIRECTORY", "DELETE_DIRECTORY", "OPEN", "DELETE", "RENAME", "QUERY_INFORMATION",
    "SET_INFORMATION", "LOCKING_ANDX", "TRANSACTION", "TRANSACTION_SECONDARY", "COPY", "MOVE",
    "OPEN_ANDX", "READ_ANDX", "WRITE_ANDX", "TRANSACTION2", "TRANSACTION2_SECONDARY",
    "FIND_CLOSE2", "TREE_CONNECT_ANDX", "SESSION_SETUP_ANDX", "LOGOFF_ANDX", "NT_TRANSACT",
    "NT_TRANSACT_SECONDARY", "NT_CREATE_ANDX", "NT_CANCEL", "NT_RENAME", "OPEN_PRINT_FILE",
    "WRITE_PRINT_FILE", "CLOSE_PRINT_FILE", "WRITE_AND_UNLOCK", "WRITE_RAW", "WRITE_AND_CLOSE"};
  return all;
}

using policy::Compare;

}  // namespace

const policy::Attribute kDialect{"smb", "dialects", "smb.dialect", {"SMBv1", "SMBv23"}, Compare::GlobNoCase, nullptr, &dialects};
const policy::Attribute kCommand{"smb", "commands", "smb.command", {"SMBv1", "SMBv23"}, Compare::GlobNoCase, nullptr, &commands};
const policy::Attribute kShare{"smb", "shares", "smb.share", {"SMBv1", "SMBv23"}, Compare::GlobNoCase, &share_problem};

const std::vector<policy::Attr>& attributes() {
  static const std::vector<policy::Attr> all = {&kDialect, &kCommand, &kShare};
  return all;
}

}  // namespace vitrine::netmon::smb
