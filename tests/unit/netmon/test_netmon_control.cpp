// netmon's control socket and its policy reloader: what hostd relies on instead of signals,
// pid files and scrapes. The engine is real (engine_fixture.h); the relay's loop is played by
// the test, which calls the reloader between "rounds" as the relay does.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "engine_fixture.h"
#include "temp_dir.h"
#include "vitrine/common/control_socket.h"
#include "vitrine/common/sha256.h"
#include "vitrine/netmon/netmon_control.h"
#include "vitrine/netmon/policy_reload.h"
#include "vitrine/netmon/traffic_counters.h"

namespace vitrine::testing {
namespace {

using nlohmann::json;

const std::string kAllowDns = std::string(kPolicyHeader) + R"(rules:
  - name: dns
    direction: egress
    transport: udp
    ports: [53]
    action: allow
)";

class NetmonControlTest : public EngineTest {
 protected:
  void SetUp() override {
    start("");
    reloader_ = std::make_unique<netmon::PolicyReloader>(dir_.path / "policy.yaml", *engine_, events_, metrics_);
    reloader_->started_with(engine_->policy(), "0000");
  }
  // The relay's rounds, until `answer` is ready (a deadline, not a count of rounds).
  template <typename T>
  T pump(std::future<T>& answer) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (answer.wait_for(std::chrono::milliseconds(1)) != std::future_status::ready) {
      reloader_->poll(false);
      if (std::chrono::steady_clock::now() > deadline) ADD_FAILURE() << "no answer within 30 s";
    }
    return answer.get();
  }
  TempDir dir_;
  std::unique_ptr<netmon::PolicyReloader> reloader_;
};

TEST_F(NetmonControlTest, AReloadByBytesIsInForceWithTheirHashOnceAnswered) {
  auto answer = reloader_->request(kAllowDns, "/etc/vitrine/ward3.yaml");
  const netmon::ReloadOutcome r = pump(answer);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.sha256, sha256_hex(kAllowDns));
  EXPECT_EQ(engine_->policy().rules.size(), 1u);
  const netmon::PolicyInForce now = reloader_->in_force();
  EXPECT_EQ(now.sha256, r.sha256);
  EXPECT_EQ(now.source, "/etc/vitrine/ward3.yaml");
  EXPECT_EQ(events_.count(netmon::Event::Kind::PolicyReloaded), 1u);
}

TEST_F(NetmonControlTest, ARefusedReloadSaysWhereAndLeavesThePolicyInForce) {
  auto answer = reloader_->request(std::string(kPolicyHeader) + "rules:\n  - name: x\n    acton: allow\n", "site.yaml");
  const netmon::ReloadOutcome r = pump(answer);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("site.yaml:"), std::string::npos) << r.error;
  EXPECT_EQ(r.line, 9) << r.error;
  EXPECT_GT(r.column, 0);
  EXPECT_EQ(reloader_->in_force().sha256, "0000");
  EXPECT_EQ(events_.count(netmon::Event::Kind::PolicyRefused), 1u);
}

TEST_F(NetmonControlTest, ASecondRequestBeforeTheFirstIsTakenSupersedesIt) {
  auto first = reloader_->request(kAllowDns, "a");
  auto second = reloader_->request(kAllowDns + "# second\n", "b");
  ASSERT_EQ(first.wait_for(std::chrono::seconds(0)), std::future_status::ready);  // answered at once
  EXPECT_NE(first.get().error.find("superseded"), std::string::npos);
  EXPECT_TRUE(pump(second).ok);
  EXPECT_EQ(reloader_->in_force().source, "b");
}

TEST_F(NetmonControlTest, SighupReadsTheFileAtItsPath) {
  dir_.write("policy.yaml", kAllowDns);
  reloader_->poll(true);
  reloader_->wait();
  EXPECT_EQ(reloader_->in_force().sha256, sha256_hex(kAllowDns));
  EXPECT_EQ(engine_->policy().rules.size(), 1u);
}

TEST_F(NetmonControlTest, TheSocketAnswersReadyStatusAndReloadAndRefusesTheRest) {
  const std::string sock = (dir_.path / "netmon-control").string();
  netmon::NetmonControl control(sock, *reloader_, metrics_.registry());
  control.start();
  // hostd's side, on a thread of its own, while this one is the relay.
  auto asked = std::async(std::launch::async, [&] {
    std::vector<json> answers;
    pid_t server = -1;
    answers.push_back(control_request(sock, {{"command", "ready"}}, std::chrono::seconds(5), &server));
    answers.back()["server_pid"] = server;
    answers.push_back(control_request(sock, {{"command", "status"}}, std::chrono::seconds(5)));
    answers.push_back(control_request(sock, {{"command", "reload"}, {"policy_text", kAllowDns}, {"source", "s.yaml"}},
                                      std::chrono::seconds(20)));
    answers.push_back(control_request(sock, {{"command", "reload"}}, std::chrono::seconds(5)));
    answers.push_back(control_request(sock, {{"command", "shutdown"}}, std::chrono::seconds(5)));
    return answers;
  });
  const std::vector<json> a = pump(asked);
  EXPECT_TRUE(a[0]["ready"].get<bool>());
  EXPECT_EQ(a[0]["pid"], getpid());
  EXPECT_EQ(a[0]["server_pid"], getpid());  // SO_PEERCRED names who listens
  EXPECT_EQ(a[0]["policy"]["sha256"], "0000");
  EXPECT_TRUE(a[1]["counters"].contains("packets")) << a[1].dump();
  EXPECT_TRUE(a[2]["ok"].get<bool>()) << a[2].dump();
  EXPECT_EQ(a[2]["policy_sha256"], sha256_hex(kAllowDns));
  EXPECT_FALSE(a[3]["ok"].get<bool>());
  EXPECT_NE(a[3]["error"].get<std::string>().find("policy_text"), std::string::npos);
  EXPECT_FALSE(a[4]["ok"].get<bool>());
}

// A hostd restarted while a reload waits for the relay must find netmon ready: one that did not
// answer would be stopped as hung.
TEST_F(NetmonControlTest, ReadyIsAnsweredWhileAReloadWaitsForItsPolicy) {
  const std::string sock = (dir_.path / "netmon-control").string();
  netmon::NetmonControl control(sock, *reloader_, metrics_.registry());
  control.start();
  auto reload = std::async(std::launch::async, [&] {
    return control_request(sock, {{"command", "reload"}, {"policy_text", kAllowDns}}, std::chrono::seconds(20));
  });
  // No relay round runs yet: the reload cannot be taken, and waits.
  const json ready = control_request(sock, {{"command", "ready"}}, std::chrono::seconds(2));
  EXPECT_TRUE(ready.value("ready", false)) << ready.dump();
  EXPECT_EQ(ready["policy"]["sha256"], "0000") << "the old policy is in force until the new one is taken";
  EXPECT_EQ(reload.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  const json answer = pump(reload);
  EXPECT_TRUE(answer["ok"].get<bool>()) << answer.dump();
  EXPECT_EQ(answer["policy_sha256"], sha256_hex(kAllowDns));
}

TEST(TrafficCounters, SumsPacketsBytesAndFlowsByVerdict) {
  prometheus::Registry registry;
  auto& packets = prometheus::BuildCounter().Name("vitrine_netmon_packets_total").Register(registry);
  packets.Add({{"direction", "egress"}, {"verdict", "allow"}}).Increment(10);
  packets.Add({{"direction", "ingress"}, {"verdict", "allow"}}).Increment(5);
  packets.Add({{"direction", "egress"}, {"verdict", "deny"}}).Increment(2);
  auto& flows = prometheus::BuildCounter().Name("vitrine_netmon_flows_total").Register(registry);
  flows.Add({{"protocol", "HL7"}, {"verdict", "allow"}}).Increment(3);
  flows.Add({{"protocol", "SMBv1"}, {"verdict", "deny"}}).Increment(1);
  prometheus::BuildCounter().Name("vitrine_netmon_rule_hits_total").Register(registry).Add({{"verdict", "deny"}}).Increment(99);
  prometheus::BuildCounter().Name("vitrine_netmon_events_suppressed_total").Register(registry).Add({}).Increment(4);
  const json s = netmon::traffic_counters(registry);
  EXPECT_EQ(s["packets"]["allow"], 15);
  EXPECT_EQ(s["packets"]["deny"], 2);
  EXPECT_EQ(s["flows"]["allow"], 3);
  EXPECT_EQ(s["flows"]["deny"], 1);
  EXPECT_EQ(s["events_suppressed"], 4);
  EXPECT_TRUE(s["bytes"].empty());
}

}  // namespace
}  // namespace vitrine::testing
