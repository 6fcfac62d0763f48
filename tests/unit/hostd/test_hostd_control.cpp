// The pieces of hostd that need no libvirt: its control socket, its event log read-back, and
// the metric families it exports.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "temp_dir.h"
#include "vitrine/common/control_socket.h"
#include "vitrine/hostd/event_log.h"
#include "vitrine/hostd/hostd_metrics.h"

namespace fs = std::filesystem;
using namespace vitrine::hostd;
using vitrine::ControlServer;
using vitrine::control_request;
using vitrine::kMaxControlRequestBytes;
using nlohmann::json;
using vitrine::testing::TempDir;

namespace {

// Serves requests on `server` until `done` is ready.
void serve_until(ControlServer& server, std::future<json>& done) {
  while (done.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
    pollfd p{server.fd(), POLLIN, 0};
    if (poll(&p, 1, 20) > 0) server.serve_one();
  }
}

// Sends raw bytes and returns the answer line.
std::string raw_exchange(const fs::path& path, const std::string& bytes) {
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return "connect failed";
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) answer.append(buf, static_cast<size_t>(n));
  close(fd);
  return answer;
}

}  // namespace

TEST(ControlServer, AnswersARequestWithTheHandlersReply) {
  TempDir dir;
  const fs::path sock = dir.path / "c.sock";
  ControlServer server(sock, [](const json& r) { return json{{"ok", true}, {"echo", r["command"]}}; });
  EXPECT_EQ(fs::status(sock).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  auto done = std::async(std::launch::async, [&] {
    return control_request(sock, {{"command", "status"}}, std::chrono::seconds(5));
  });
  serve_until(server, done);
  const json answer = done.get();
  EXPECT_EQ(answer["echo"], "status");
  EXPECT_EQ(server.refused(), 0u);
}

TEST(ControlServer, RefusesWhatIsNotARequestAndCountsIt) {
  TempDir dir;
  const fs::path sock = dir.path / "c.sock";
  int handled = 0;
  ControlServer server(sock, [&](const json&) { ++handled; return json{{"ok", true}}; });
  const std::vector<std::string> bad = {"not json\n", "[1,2]\n", "{\"command\":7}\n", "{}\n",
                                        std::string(kMaxControlRequestBytes + 10, 'x') + "\n",
                                        "{\"command\":\"status\"}"};  // no newline: never complete
  for (const auto& bytes : bad) {
    auto done = std::async(std::launch::async, [&] { return json::parse(raw_exchange(sock, bytes)); });
    serve_until(server, done);
    const json answer = done.get();
    EXPECT_FALSE(answer["ok"].get<bool>()) << bytes.substr(0, 40);
    EXPECT_FALSE(answer["error"].get<std::string>().empty());
  }
  EXPECT_EQ(handled, 0);
  EXPECT_EQ(server.refused(), bad.size());
}

TEST(ControlServer, AHandlerThatThrowsBecomesAnError) {
  TempDir dir;
  const fs::path sock = dir.path / "c.sock";
  ControlServer server(sock, [](const json&) -> json { throw std::runtime_error("the image store is gone"); });
  auto done = std::async(std::launch::async, [&] {
    return control_request(sock, {{"command", "snapshot"}}, std::chrono::seconds(5));
  });
  serve_until(server, done);
  const json answer = done.get();
  EXPECT_FALSE(answer["ok"].get<bool>());
  EXPECT_EQ(answer["error"], "the image store is gone");
}

// A stop answers when the guest is down: the server keeps the reply and goes on serving others.
TEST(ControlServer, AKeptReplyIsSentLaterWhileOtherClientsAreServed) {
  TempDir dir;
  const fs::path sock = dir.path / "c.sock";
  std::vector<vitrine::ControlReply> kept;
  ControlServer server(sock, ControlServer::DeferringHandler([&](const json& r, vitrine::ControlReply reply) {
    if (r["command"] == "stop") kept.push_back(std::move(reply));
    else reply.send({{"ok", true}, {"kept", kept.size()}});
  }));
  auto stop = std::async(std::launch::async, [&] { return control_request(sock, {{"command", "stop"}}, std::chrono::seconds(10)); });
  while (kept.empty()) {
    pollfd p{server.fd(), POLLIN, 0};
    if (poll(&p, 1, 20) > 0) server.serve_one();
  }
  auto status = std::async(std::launch::async, [&] { return control_request(sock, {{"command", "status"}}, std::chrono::seconds(5)); });
  serve_until(server, status);
  EXPECT_EQ(status.get()["kept"], 1) << "answered while the stop's reply is still owed";
  EXPECT_EQ(stop.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  kept.front().send({{"ok", true}, {"how", "acpi"}});
  EXPECT_EQ(stop.get()["how"], "acpi");
}

TEST(ControlServer, AReplyDroppedUnsentStillAnswersTheClient) {
  TempDir dir;
  const fs::path sock = dir.path / "c.sock";
  ControlServer server(sock, ControlServer::DeferringHandler([](const json&, vitrine::ControlReply) {}));
  auto done = std::async(std::launch::async, [&] { return control_request(sock, {{"command", "stop"}}, std::chrono::seconds(5)); });
  serve_until(server, done);
  const json answer = done.get();
  EXPECT_FALSE(answer["ok"].get<bool>());
  EXPECT_NE(answer["error"].get<std::string>().find("unanswered"), std::string::npos);
}

// A client that asks for a long answer and never reads it holds the server for one send's
// timeout, then is left; the next client is served.
TEST(ControlServer, AClientThatDoesNotReadItsAnswerIsLeft) {
  TempDir dir;
  const fs::path sock = dir.path / "c.sock";
  ControlServer server(sock, [](const json& r) { return json{{"ok", true}, {"big", std::string(r["command"] == "big" ? 8 << 20 : 1, 'x')}}; });
  const int idle = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, sock.c_str(), sizeof sa.sun_path - 1);
  ASSERT_EQ(connect(idle, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  const std::string request = "{\"command\":\"big\"}\n";
  ASSERT_EQ(send(idle, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  const auto started = std::chrono::steady_clock::now();
  server.serve_one();  // returns once its send gives up
  EXPECT_LT(std::chrono::steady_clock::now() - started, vitrine::kControlWriteTimeout + std::chrono::seconds(5));
  auto next = std::async(std::launch::async, [&] { return control_request(sock, {{"command", "status"}}, std::chrono::seconds(5)); });
  serve_until(server, next);
  EXPECT_TRUE(next.get()["ok"].get<bool>());
  close(idle);
}

TEST(ControlServer, ReplacesAStaleSocketAndTheClientSaysWhenNoneListens) {
  TempDir dir;
  const fs::path sock = dir.path / "c.sock";
  { ControlServer first(sock, [](const json&) { return json{{"ok", true}}; }); }
  EXPECT_FALSE(fs::exists(sock)) << "a stopped server removes its socket";
  std::ofstream(sock) << "stale";
  ControlServer second(sock, [](const json&) { return json{{"ok", true}}; });
  EXPECT_TRUE(fs::is_socket(sock));
  try {
    control_request(dir.path / "none.sock", {{"command", "status"}}, std::chrono::seconds(1));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nothing listens there"), std::string::npos) << e.what();
  }
}

TEST(EventLog, MergesHostdAndNetmonEventsInTimeOrderAndKeepsUnreadableLines) {
  TempDir dir;
  const fs::path hostd = dir.path / "h.jsonl", netmon = dir.path / "n.jsonl";
  std::ofstream(hostd) << R"({"time":"2026-01-01T00:00:01.000000Z","event":"guest_started"})" "\n"
                       << R"({"time":"2026-01-01T00:00:03.000000Z","event":"crash_loop"})" "\n";
  std::ofstream(netmon) << R"({"time":"2026-01-01T00:00:02.000000Z","event":"flow_denied"})" "\n"
                        << "garbage\n"
                        << R"({"time":"2026-01-01T00:00:04.000000Z","event":"half)";  // being written
  const json all = recent_events({{"hostd", hostd}, {"netmon", netmon}}, 100);
  ASSERT_EQ(all.size(), 4u) << all.dump();
  EXPECT_EQ(all[0]["event"], "unreadable_line");  // no time: sorts first, but is not lost
  EXPECT_EQ(all[0]["source"], "netmon");
  EXPECT_EQ(all[1]["event"], "guest_started");
  EXPECT_EQ(all[2]["event"], "flow_denied");
  EXPECT_EQ(all[3]["event"], "crash_loop");
  EXPECT_EQ(recent_events({{"hostd", hostd}, {"netmon", netmon}}, 1)[0]["event"], "crash_loop");
  EXPECT_TRUE(recent_events({{"hostd", dir.path / "missing"}}, 10).empty());
}

TEST(EventLog, RecordsWithTimeSourceAndCabinet) {
  TempDir dir;
  {
    HostdEventLog log(dir.path / "h.jsonl", "ward3");
    log.record("crash_loop", {{"restarts", 5}});
    EXPECT_EQ(log.write_failures(), 0u);
  }
  const json all = recent_events({{"hostd", dir.path / "h.jsonl"}}, 10);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["event"], "crash_loop");
  EXPECT_EQ(all[0]["cabinet"], "ward3");
  EXPECT_EQ(all[0]["restarts"], 5);
  EXPECT_EQ(all[0]["time"].get<std::string>().size(), std::string("2026-01-01T00:00:00.000000Z").size());
}

TEST(HostdMetrics, ExportsLibvirtExporterNamesWithTheDomainLabel) {
  GuestStats s;
  s.running = true;
  s.state = 1;
  s.cpu_seconds = 12.5;
  s.disks.push_back({"hda", 1, 512, 2, 1024});
  s.nics.push_back({"vt-ward3", 100, 1, 0, 0, 200, 2, 0, 0});
  s.crash_loop = true;
  std::map<std::string, double> seen;
  for (const auto& f : metric_families(s, "ward3")) {
    for (const auto& m : f.metric) {
      ASSERT_FALSE(m.label.empty());
      EXPECT_EQ(m.label[0].name, "domain");
      EXPECT_EQ(m.label[0].value, "ward3");
      seen[f.name] = f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  EXPECT_EQ(seen["vitrine_domain_up"], 1);
  EXPECT_EQ(seen["vitrine_domain_info_cpu_time_seconds_total"], 12.5);
  EXPECT_EQ(seen["vitrine_domain_block_stats_write_bytes_total"], 1024);
  EXPECT_EQ(seen["vitrine_domain_interface_stats_transmit_bytes_total"], 200);
  EXPECT_EQ(seen["vitrine_domain_crash_loop"], 1);
  EXPECT_EQ(seen.count("vitrine_netmon_up"), 1u);
}
