// Events forwarded as RFC 5424: the target's syntax, the message's header, and real loopback
// receivers over UDP and TCP (octet counting), with every outcome counted.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "vitrine/common/syslog_forwarder.h"

namespace vitrine {
namespace {

TEST(SyslogTarget, ParsesUdpTcpPortsAndFacilities) {
  auto t = SyslogTarget::parse("udp://10.0.0.5");
  EXPECT_EQ(t.transport, SyslogTarget::Transport::Udp);
  EXPECT_EQ(t.host, "10.0.0.5");
  EXPECT_EQ(t.port, 514);
  EXPECT_EQ(t.facility, 16);
  t = SyslogTarget::parse("tcp://siem.hospital.example:6514", "authpriv");
  EXPECT_EQ(t.transport, SyslogTarget::Transport::Tcp);
  EXPECT_EQ(t.host, "siem.hospital.example");
  EXPECT_EQ(t.port, 6514);
  EXPECT_EQ(t.facility, 10);
  t = SyslogTarget::parse("udp://[fd00::5]:1514", "local7");
  EXPECT_EQ(t.host, "fd00::5");
  EXPECT_EQ(t.port, 1514);
  EXPECT_EQ(t.facility, 23);
  EXPECT_EQ(t.str(), "udp://[fd00::5]:1514");
}

TEST(SyslogTarget, RefusesWhatIsNotATarget) {
  for (const char* bad : {"10.0.0.5:514", "http://10.0.0.5", "udp://", "udp://:514", "udp://h:0", "udp://h:65536",
                          "udp://h:51x", "udp://h:", "udp://fd00::5", "udp://[fd00::5", "udp://[fd00::5]x"}) {
    EXPECT_THROW(SyslogTarget::parse(bad), SyslogTargetError) << bad;
  }
  try {
    SyslogTarget::parse("udp://h", "local9");
    FAIL();
  } catch (const SyslogTargetError& e) {
    EXPECT_NE(std::string(e.what()).find("local0"), std::string::npos) << "names the facilities: " << e.what();
  }
}

TEST(Rfc5424, HeaderIsPrintableAsciiCutToItsLengths) {
  const std::string msgid(40, 'm');
  const std::string m = format_rfc5424({16, 1, "2026-11-27T11:41:36.123456Z", "cab host", "vitrine-netmon", 42, msgid,
                                        "-", "{\"a\":1}"});
  EXPECT_EQ(m, "<129>1 2026-11-27T11:41:36.123456Z cab_host vitrine-netmon 42 " + std::string(32, 'm') +
                   " - \xEF\xBB\xBF{\"a\":1}");
  EXPECT_EQ(format_rfc5424({3, 6, "", "", "", 1, "", "", ""}), "<30>1 - - - 1 - -");
  EXPECT_EQ(escape_sd_value("a\"b\\c]d"), "a\\\"b\\\\c\\]d");
}

TEST(Rfc5424, SeverityFollowsWhatTheEventMeans) {
  EXPECT_EQ(syslog_severity("virtual_patch"), 1);
  EXPECT_EQ(syslog_severity("crash_loop"), 2);
  EXPECT_EQ(syslog_severity("policy_refused"), 3);
  EXPECT_EQ(syslog_severity("flow_denied"), 4);
  EXPECT_EQ(syslog_severity("usb_blocked"), 4);
  EXPECT_EQ(syslog_severity("guest_started"), 5);
  EXPECT_EQ(syslog_severity("usb_attached"), 6);
  EXPECT_EQ(syslog_severity("something_new"), 5);
}

// A loopback socket the test receives on.
struct Receiver {
  int fd = -1;
  uint16_t port = 0;
  explicit Receiver(int type) {
    fd = socket(AF_INET, type, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    if (type == SOCK_STREAM) listen(fd, 4);
  }
  ~Receiver() { close(fd); }
  // Bytes readable on `from` within 5 s, or "".
  static std::string read_some(int from) {
    pollfd p{from, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return {};
    char buf[65536];
    const ssize_t n = recv(from, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
};

nlohmann::json event(const std::string& name, int n) {
  return {{"time", "2026-11-27T11:41:36.000000Z"}, {"event", name}, {"n", n}};
}

TEST(SyslogForwarder, SendsEachEventAsOneDatagram) {
  Receiver rx(SOCK_DGRAM);
  SyslogForwarder f(SyslogTarget::parse("udp://127.0.0.1:" + std::to_string(rx.port)), "vitrine-netmon", "ward3");
  f.forward(event("virtual_patch", 1));
  f.forward(event("flow_denied", 2));
  ASSERT_TRUE(f.drain(std::chrono::seconds(5)));
  const std::string first = Receiver::read_some(rx.fd);
  const std::string second = Receiver::read_some(rx.fd);
  EXPECT_EQ(first.rfind("<129>1 2026-11-27T11:41:36.000000Z ", 0), 0u) << first;
  EXPECT_NE(first.find(" vitrine-netmon " + std::to_string(getpid()) + " virtual_patch [origin software=\"vitrine\""),
            std::string::npos) << first;
  EXPECT_NE(first.find("\xEF\xBB\xBF{"), std::string::npos);
  const auto body = nlohmann::json::parse(first.substr(first.find("\xEF\xBB\xBF") + 3));
  EXPECT_EQ(body["cabinet"], "ward3");
  EXPECT_EQ(body["n"], 1);
  EXPECT_EQ(second.rfind("<132>1 ", 0), 0u) << second;
  EXPECT_EQ(f.sent(), 2u);
  EXPECT_EQ(f.failed(), 0u);
}

TEST(SyslogForwarder, FramesByOctetCountingOverTcp) {
  Receiver listener(SOCK_STREAM);
  SyslogForwarder f(SyslogTarget::parse("tcp://127.0.0.1:" + std::to_string(listener.port)), "vitrine-hostd", "");
  f.forward(event("guest_started", 1));
  f.forward({{"time", "2026-11-27T11:41:37Z"}, {"event", "usb_blocked"}, {"name", "line\nbreak"}});
  ASSERT_TRUE(f.drain(std::chrono::seconds(5)));
  const int conn = accept(listener.fd, nullptr, nullptr);
  ASSERT_GE(conn, 0);
  EXPECT_EQ(f.sent(), 2u);
  // Both frames, however the stream was cut into reads.
  std::string stream;
  for (std::string more; (more = Receiver::read_some(conn)).size() > 0;) {
    stream += more;
    if (stream.find("usb_blocked") != std::string::npos && stream.back() == '}') break;
  }
  close(conn);
  // Each frame is "LENGTH SP MESSAGE", and LENGTH counts the message's bytes exactly.
  std::vector<std::string> messages;
  for (size_t at = 0; at < stream.size();) {
    const size_t space = stream.find(' ', at);
    ASSERT_NE(space, std::string::npos);
    const size_t length = std::stoul(stream.substr(at, space - at));
    messages.push_back(stream.substr(space + 1, length));
    at = space + 1 + length;
  }
  ASSERT_EQ(messages.size(), 2u) << stream;
  EXPECT_EQ(messages[0].rfind("<133>1 ", 0), 0u);
  EXPECT_NE(messages[1].find("line\\nbreak"), std::string::npos) << "JSON escapes it: " << messages[1];
  EXPECT_EQ(messages[1].rfind("<132>1 ", 0), 0u);
}

TEST(SyslogForwarder, HoldsWhatNoReceiverTookUntilOneListens) {
  // A port with nobody on it, then a SIEM that comes back on it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // bound, not listening: refused
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  SyslogForwarder f(SyslogTarget::parse("tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port))), "vitrine-netmon", "");
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) f.forward(event("flow_denied", i));
  EXPECT_FALSE(f.drain(std::chrono::milliseconds(2500))) << "nobody listens: nothing is sent";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10)) << "the caller is never held";
  EXPECT_EQ(f.sent(), 0u);
  EXPECT_EQ(f.failed(), 0u) << "held, not lost";
  ASSERT_EQ(listen(fd, 4), 0);  // the SIEM is back
  ASSERT_TRUE(f.drain(std::chrono::seconds(10)));
  EXPECT_EQ(f.sent(), 5u);
  EXPECT_EQ(f.failed(), 0u);
  const int conn = accept(fd, nullptr, nullptr);
  ASSERT_GE(conn, 0);
  std::string stream;
  for (std::string more; stream.find("\"n\":4") == std::string::npos && (more = Receiver::read_some(conn)).size() > 0;)
    stream += more;
  for (int i = 0; i < 5; ++i) EXPECT_NE(stream.find("\"n\":" + std::to_string(i)), std::string::npos) << i;
  EXPECT_LT(stream.find("\"n\":0"), stream.find("\"n\":4")) << "in the order they were queued";
  close(conn);
  close(fd);
}

TEST(SyslogForwarder, AFullQueueDropsAndCountsTheRest) {
  Receiver rx(SOCK_DGRAM);
  SyslogForwarder f(SyslogTarget::parse("udp://127.0.0.1:" + std::to_string(rx.port)), "vitrine-netmon", "", 0);
  for (int i = 0; i < 5; ++i) f.forward(event("flow_denied", i));
  ASSERT_TRUE(f.drain(std::chrono::seconds(5)));
  EXPECT_EQ(f.queue_full(), 5u);
  EXPECT_EQ(f.sent(), 0u);
}

TEST(SyslogForwarder, ABurstIsSentOrCountedEveryEvent) {
  Receiver rx(SOCK_DGRAM);
  constexpr int kEvents = 500;
  // Room for the whole burst in the socket, so that a reader slowed by a busy machine loses
  // nothing that was sent (as root, past rmem_max; otherwise as much as rmem_max allows).
  const int room = 4 << 20;
  if (setsockopt(rx.fd, SOL_SOCKET, SO_RCVBUFFORCE, &room, sizeof room) != 0)
    setsockopt(rx.fd, SOL_SOCKET, SO_RCVBUF, &room, sizeof room);
  // The test reads as the forwarder sends, so that loopback's receive buffer never overflows.
  std::atomic<int> received{0};
  std::thread reader([&] {
    char buf[65536];
    pollfd p{rx.fd, POLLIN, 0};
    while (poll(&p, 1, 1000) == 1 && recv(rx.fd, buf, sizeof buf, 0) > 0) ++received;
  });
  {
    SyslogForwarder f(SyslogTarget::parse("udp://127.0.0.1:" + std::to_string(rx.port)), "vitrine-netmon", "", 2);
    for (int i = 0; i < kEvents; ++i) f.forward(event("flow_denied", i));
    ASSERT_TRUE(f.drain(std::chrono::seconds(5)));
    // What the queue had room for was sent, the rest counted: nothing failed, nothing is lost.
    EXPECT_GT(f.sent(), 0u);
    EXPECT_EQ(f.failed(), 0u);
    EXPECT_EQ(f.sent() + f.queue_full(), static_cast<uint64_t>(kEvents));
    reader.join();
    EXPECT_EQ(static_cast<uint64_t>(received.load()), f.sent());
  }
}

TEST(SyslogForwarder, AStalledReceiverDoesNotHoldItsOwnerAtStop) {
  // A SIEM that accepts the connection and never reads: once the socket buffers are full, every
  // send waits. Stopping must still end, giving up what is left.
  Receiver listener(SOCK_STREAM);
  auto f = std::make_unique<SyslogForwarder>(
      SyslogTarget::parse("tcp://127.0.0.1:" + std::to_string(listener.port)), "vitrine-netmon", "");
  nlohmann::json big = event("flow_denied", 0);
  big["reason"] = std::string(kMaxSyslogMessageBytes - 400, 'x');
  for (int i = 0; i < 4000; ++i) f->forward(big);  // 30 MB: more than loopback buffers hold
  EXPECT_FALSE(f->drain(std::chrono::milliseconds(500))) << "the receiver reads nothing";
  auto stopped = std::async(std::launch::async, [&] { f.reset(); });
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "the destructor gives up after kSyslogStopMilliseconds";
  stopped.wait();
}

TEST(SyslogForwarder, AnOversizedEventIsSentAsAStubNamingIt) {
  SyslogForwarder f(SyslogTarget::parse("udp://127.0.0.1:9"), "vitrine-netmon", "ward3");
  nlohmann::json big = event("flow_denied", 1);
  big["reason"] = std::string(kMaxSyslogMessageBytes, 'x');
  const std::string m = f.message_for(big);
  EXPECT_LE(m.size(), kMaxSyslogMessageBytes);
  const auto body = nlohmann::json::parse(m.substr(m.find("\xEF\xBB\xBF") + 3));
  EXPECT_EQ(body["event"], "flow_denied");
  EXPECT_EQ(body["cabinet"], "ward3");
  EXPECT_GT(body["oversized_bytes"].get<size_t>(), kMaxSyslogMessageBytes);
  f.forward(big);
  ASSERT_TRUE(f.drain(std::chrono::seconds(5)));
  EXPECT_EQ(f.oversized(), 1u);
}

TEST(SyslogForwarder, BytesThatAreNotUtf8AreReplacedNotThrown) {
  SyslogForwarder f(SyslogTarget::parse("udp://127.0.0.1:9"), "vitrine-netmon", "");
  nlohmann::json e = event("malformed", 1);
  e["reason"] = std::string("\xff\xfe bad", 6);
  const std::string m = f.message_for(e);
  const auto body = nlohmann::json::parse(m.substr(m.find("\xEF\xBB\xBF") + 3));
  EXPECT_EQ(body["reason"], "\xEF\xBF\xBD\xEF\xBF\xBD bad") << "each byte that is not UTF-8 becomes U+FFFD";
  EXPECT_EQ(body["event"], "malformed");
}

}  // namespace
}  // namespace vitrine
