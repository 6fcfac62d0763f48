// The registrations each inspector declares beside itself: what the engine and the metrics
// take from them must hold together (names, closed sets of malformed reasons).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engine_fixture.h"
#include "vitrine/netmon/inspector.h"
#include "vitrine/netmon/metrics.h"

using vitrine::netmon::InspectorRegistration;
using vitrine::netmon::inspector_registry;
using vitrine::netmon::MalformedReason;

TEST(InspectorRegistry, EachInspectorHasANameOfItsOwnAndReadsSomething) {
  std::set<std::string> names;
  for (const InspectorRegistration& r : inspector_registry()) {
    ASSERT_NE(r.protocol, nullptr);
    EXPECT_TRUE(names.insert(r.protocol).second) << r.protocol << " registered twice";
    EXPECT_TRUE((r.recognises != nullptr && r.create != nullptr) || r.reads_responder != nullptr) << r.protocol;
    // An inspector that reads streams can find them not its protocol, and says how.
    if (r.create != nullptr) {
      EXPECT_FALSE(r.malformed.empty()) << r.protocol;
    }
  }
}

// lower_snake_case: a letter, then letters, digits and '_' (no std::regex: it trips GCC 12's
// uninitialised warnings under ASan).
static bool snake_case(const std::string& s) {
  if (s.empty() || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

TEST(InspectorRegistry, MalformedReasonsAreAClosedSetOfStableLabels) {
  std::set<const MalformedReason*> seen;
  for (const InspectorRegistration& r : inspector_registry()) {
    std::set<std::string> ids;
    for (const MalformedReason* reason : r.malformed) {
      ASSERT_NE(reason, nullptr) << r.protocol;
      EXPECT_TRUE(snake_case(reason->id)) << r.protocol << ": " << reason->id;
      EXPECT_LE(std::string(reason->id).size(), 40u) << reason->id;
      EXPECT_TRUE(ids.insert(reason->id).second) << r.protocol << " lists " << reason->id << " twice";
      EXPECT_GT(std::string(reason->description).size(), 8u) << reason->id;
      EXPECT_TRUE(seen.insert(reason).second) << reason->id << " is listed by two inspectors";
    }
  }
}

TEST(InspectorRegistry, EveryMalformedReasonIsASeriesAtZeroFromTheStart) {
  // An alert on increase() misses a series' first appearance: each is there before any byte.
  auto registry = std::make_shared<prometheus::Registry>();
  vitrine::netmon::NetmonMetrics metrics(registry);
  size_t series = 0;
  for (const InspectorRegistration& r : inspector_registry())
    for (const MalformedReason* reason : r.malformed) {
      EXPECT_EQ(vitrine::testing::metric_value(*registry, "vitrine_netmon_inspector_malformed_total",
                                            {{"protocol", r.protocol}, {"reason", reason->id}}),
                0)
          << r.protocol << " " << reason->id;
      ++series;
    }
  EXPECT_GT(series, 30u);
  const InspectorRegistration& first = inspector_registry().front();
  metrics.inspector_malformed(first, *first.malformed.front());
  EXPECT_EQ(vitrine::testing::metric_value(*registry, "vitrine_netmon_inspector_malformed_total",
                                        {{"protocol", first.protocol}, {"reason", first.malformed.front()->id}}),
            1);
}

TEST(InspectorRegistry, EveryInspectorWhoseAnswersRefuseHasItsRefusalsSeriesAtZero) {
  auto registry = std::make_shared<prometheus::Registry>();
  vitrine::netmon::NetmonMetrics metrics(registry);
  size_t refusing = 0;
  for (const InspectorRegistration& r : inspector_registry()) {
    const double v = vitrine::testing::metric_value(*registry, "vitrine_netmon_message_naks_total", {{"protocol", r.protocol}});
    EXPECT_EQ(v, r.refusals ? 0 : -1) << r.protocol;
    refusing += r.refusals;
  }
  EXPECT_GE(refusing, 4u) << "HL7, DICOM, RDP and Modbus answers can refuse";
}
