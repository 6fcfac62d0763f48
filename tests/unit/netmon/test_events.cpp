// netmon's events file: one JSON object a line, each field only when the event has it, and
// bytes from the wire (an attribute, a reason) written even when they are not UTF-8.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "vitrine/netmon/events.h"

using namespace vitrine::netmon;
using nlohmann::json;

namespace {

std::vector<json> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

}  // namespace

TEST(JsonEventSink, WritesEachEventAsALineWithOnlyTheFieldsItHas) {
  vitrine::testing::TempDir dir;
  const std::string path = (dir.path / "events.jsonl").string();
  {
    JsonEventSink sink(path);
    Event denied;
    denied.kind = Event::Kind::FlowDenied;
    denied.time_us = 1'764'000'000'000'000;
    denied.l4 = "TCP";
    denied.src = *vitrine::IpAddr::parse("10.77.0.2");
    denied.sport = 49152;
    denied.dst = *vitrine::IpAddr::parse("10.20.0.5");
    denied.dport = 445;
    denied.direction = "egress";
    denied.rule = "no-smb";
    denied.attributes = {{"smb.share", "ADMIN$"}};
    EXPECT_TRUE(sink.emit(denied));
    Event reloaded;
    reloaded.kind = Event::Kind::PolicyReloaded;
    reloaded.policy_name = "ward3";
    reloaded.policy_sha256 = std::string(64, 'a');
    reloaded.flows_rejudged = 3;
    reloaded.flows_cut = 1;
    EXPECT_TRUE(sink.emit(reloaded));
  }
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["event"], "flow_denied");
  EXPECT_EQ(lines[0]["src"], "10.77.0.2");
  EXPECT_EQ(lines[0]["dport"], 445);
  EXPECT_EQ(lines[0]["attributes"]["smb.share"], "ADMIN$");
  EXPECT_EQ(lines[0]["time"].get<std::string>().substr(0, 4), "2025");
  EXPECT_FALSE(lines[0].contains("flows_cut")) << "a field only for the events that have it";
  EXPECT_EQ(lines[1]["event"], "policy_reloaded");
  EXPECT_EQ(lines[1]["flows_cut"], 1);
  EXPECT_FALSE(lines[1].contains("src")) << "no flow: no addresses";
}

TEST(JsonEventSink, BytesThatAreNotUtf8AreWrittenNotLost) {
  vitrine::testing::TempDir dir;
  const std::string path = (dir.path / "events.jsonl").string();
  {
    JsonEventSink sink(path);
    Event malformed;
    malformed.kind = Event::Kind::Malformed;
    malformed.reason = std::string("bad \xff\xfe byte");
    malformed.attributes = {{"tls.sni", std::string("host\xc3(.example")}};
    EXPECT_TRUE(sink.emit(malformed));
  }
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["event"], "malformed");
  EXPECT_NE(lines[0]["reason"].get<std::string>().find("bad "), std::string::npos);
}

TEST(JsonEventSink, AnEventThatCannotBeWrittenIsSaidSo) {
  JsonEventSink sink("/dev/full");
  Event e;
  e.kind = Event::Kind::LimitReached;
  e.limit = "maxFlows";
  EXPECT_FALSE(sink.emit(e)) << "the caller counts it (vitrine_netmon_event_write_errors_total)";
}
