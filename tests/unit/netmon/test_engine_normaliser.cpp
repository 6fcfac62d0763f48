// The engine as the receiving host's stand-in: what it reads of a TCP stream is what the host
// reads, and what the host would discard or could read two ways is dropped. Each test builds
// the evasion against an HL7 rule (orders only) and its benign twin, and checks both the
// verdict and the bytes that were forwarded.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <map>

#include "engine_fixture.h"
#include "vitrine/netmon/decode.h"

using namespace vitrine;
using namespace vitrine::netmon;
using namespace vitrine::testing;
using netmon::tcp_flag::kAck;
using netmon::tcp_flag::kFin;
using netmon::tcp_flag::kPsh;
using netmon::tcp_flag::kRst;
using netmon::tcp_flag::kSyn;
using netmon::tcp_flag::kUrg;

namespace {

constexpr const char* kOrdersOnly = R"(rules:
  - name: orders-to-pharmacy
    direction: egress
    peers: [10.77.0.1]
    transport: tcp
    ports: [2575]
    hl7:
      messageTypes: ["RDE^O11"]
    action: allow
)";

constexpr uint16_t kSport = 49200, kHl7 = 2575;
// After connect(): the guest's bytes start at 2, the server's at 101.
constexpr uint32_t kStart = 2, kServerNext = 101;

std::string mllp(const std::string& type) {
  return "\x0bMSH|^~\\&|CABINET|WARD3|PHARMACY|MAIN|20261201083000||" + type +
         "|MSG0001|P|2.5\rPID|1||PAT123^^^HOSP^MR||DOE^JANE\r\x1c\r";
}
const std::string kOrder = mllp("RDE^O11");
const std::string kAdmission = mllp("ADT^A04");  // the same length as kOrder

class NormaliserTest : public EngineTest {
 protected:
  // A fresh engine (and a clean record of what it sent and said), the connection open.
  void open() {
    sink_.sent.clear();
    events_.events.clear();
    start(kOrdersOnly);
    connect(kSport, kHl7);
  }
  void send(uint32_t offset, const std::string& bytes, uint8_t flags = kAck | kPsh) {
    from_guest(guest_tcp(kSport, kHl7, kStart + offset, kServerNext, flags, bytes));
  }
  void send_frame(Bytes frame) { from_guest(frame); }
  // The guest's bytes as the server receives them: every forwarded segment put in place, and
  // no place given two different bytes (the receiver has one version of each, whatever its
  // stack's overlap policy).
  std::string received() {
    std::map<uint32_t, char> at;
    for (const Bytes& frame : sink_.to(Side::Uplink)) {
      Decoded d;
      if (decode_frame(LinkType::Ethernet, frame.data(), frame.size(), frame.size(), d) != Malformed::None) continue;
      if (d.l4_protocol != IPPROTO_TCP || d.src_port != kSport || (d.tcp_flags & kRst)) continue;
      for (uint32_t i = 0; i < d.payload_len; ++i) {
        const auto [it, fresh] = at.emplace(d.tcp_seq + i - kStart, static_cast<char>(d.payload[i]));
        EXPECT_TRUE(fresh || it->second == static_cast<char>(d.payload[i])) << "two versions of byte " << it->first;
      }
    }
    std::string out;
    for (const auto& [offset, c] : at) {
      if (offset != out.size()) break;  // up to the first hole
      out += c;
    }
    return out;
  }
  bool denied() {
    for (const auto& e : events_.events)
      if (e.kind == Event::Kind::FlowDenied && e.dport == kHl7) return true;
    return false;
  }
  double dropped(const char* reason) { return metric("vitrine_netmon_normaliser_dropped_packets_total", {{"reason", reason}}); }
};

}  // namespace

TEST_F(NormaliserTest, TheBenignOrderPassesWhole) {
  open();
  send(0, kOrder);
  EXPECT_FALSE(denied());
  EXPECT_EQ(received(), kOrder);
}

TEST_F(NormaliserTest, ATinyFirstSegmentWaitsUntilTheProtocolShows) {
  open();
  send(0, kAdmission.substr(0, 1));
  EXPECT_EQ(received(), "") << "one byte says nothing yet: it waits";
  send(1, kAdmission.substr(1, 6));
  send(7, kAdmission.substr(7));
  EXPECT_TRUE(denied());
  EXPECT_EQ(received().find("ADT"), std::string::npos);
  // The twin, split the same way, passes.
  open();
  send(0, kOrder.substr(0, 1));
  send(1, kOrder.substr(1, 6));
  send(7, kOrder.substr(7));
  EXPECT_FALSE(denied());
  EXPECT_EQ(received(), kOrder);
}

TEST_F(NormaliserTest, TheSecondHalfFirstIsReadFromTheStart) {
  open();
  send(20, kAdmission.substr(20));
  send(0, kAdmission.substr(0, 20));
  EXPECT_TRUE(denied());
  EXPECT_NE(received().size(), kAdmission.size());
  open();
  send(20, kOrder.substr(20));
  send(0, kOrder.substr(0, 20));
  EXPECT_FALSE(denied());
  EXPECT_EQ(received(), kOrder);
}

TEST_F(NormaliserTest, ADecoyFarAheadDoesNotMoveTheStreamsStart) {
  open();
  send(1'000'000, kOrder);  // beyond the server's window: the server would discard it
  EXPECT_EQ(dropped("outside_window"), 1);
  send(0, kAdmission);
  EXPECT_TRUE(denied());
}

TEST_F(NormaliserTest, SegmentsTheHostDiscardsAreNotRead) {
  // Each insertion carries the order where the admission will be: read first, it would win.
  struct Insertion {
    const char* reason;
    Bytes frame;
  };
  auto order_frame = [&](uint8_t flags, uint32_t ack, const Bytes& options = {}) {
    return ethernet(kGuestMac, kGatewayMac, 0x0800,
                    ipv4(kGuestIp, kServerIp, 6, tcp(kSport, kHl7, kStart, ack, flags, kOrder, options)));
  };
  std::vector<Insertion> insertions;
  Bytes bad_tcp = order_frame(kAck | kPsh, kServerNext);
  bad_tcp[14 + 20 + 16] ^= 0x55;  // the TCP checksum
  insertions.push_back({"bad_l4_checksum", bad_tcp});
  Bytes bad_ip = order_frame(kAck | kPsh, kServerNext);
  bad_ip[14 + 10] ^= 0x55;  // the IP header checksum
  insertions.push_back({"bad_ip_checksum", bad_ip});
  insertions.push_back({"invalid_flags", order_frame(kPsh, 0)});
  insertions.push_back({"ack_unsent_data", order_frame(kAck | kPsh, kServerNext + 5000)});
  insertions.push_back({"bad_tcp_options", order_frame(kAck | kPsh, kServerNext, {8, 12, 0, 0})});
  insertions.push_back({"vlan_mismatch", ethernet_vlan(kGuestMac, kGatewayMac, 7, 0x0800,
                                                       ipv4(kGuestIp, kServerIp, 6,
                                                            tcp(kSport, kHl7, kStart, kServerNext, kAck | kPsh, kOrder)))});
  insertions.push_back({"urgent_data", order_frame(kAck | kPsh | kUrg, kServerNext)});
  for (const auto& insertion : insertions) {
    open();
    send_frame(insertion.frame);
    EXPECT_EQ(dropped(insertion.reason), 1) << insertion.reason;
    send(0, kAdmission);
    EXPECT_TRUE(denied()) << insertion.reason;
    EXPECT_EQ(received().find("ADT"), std::string::npos) << insertion.reason;
  }
}

TEST_F(NormaliserTest, DataBeforeTheHandshakeIsNotRead) {
  start(kOrdersOnly);
  from_guest(guest_tcp(kSport, kHl7, 1, 0, kSyn));
  send(0, kOrder, kPsh | kAck);  // before the server answered
  EXPECT_EQ(dropped("before_handshake"), 1);
  from_uplink(server_tcp(kHl7, kSport, 100, 2, kSyn | kAck));
  from_guest(guest_tcp(kSport, kHl7, 2, 101, kAck));
  send(0, kAdmission);
  EXPECT_TRUE(denied());
}

TEST_F(NormaliserTest, AnOverlapThatDiffersIsDroppedWhereWindowsWouldHaveTakenIt) {
  // Out of order: the order's tail waits; then a segment covering it with the admission's
  // bytes. Windows takes the covering segment; netmon forwards only one version.
  open();
  send(30, kOrder.substr(30));
  send(0, kAdmission);
  EXPECT_EQ(dropped("overlap_conflict"), 1);
  send(0, kOrder.substr(0, 30));
  EXPECT_FALSE(denied());
  EXPECT_EQ(received(), kOrder);
}

TEST_F(NormaliserTest, ARetransmissionWithOtherBytesIsDropped) {
  open();
  send(0, kOrder);
  send(0, kAdmission);  // not acknowledged yet: the server could still take it
  EXPECT_EQ(dropped("overlap_conflict"), 1);
  send(0, kOrder);      // the same again: a retransmission
  EXPECT_EQ(received(), kOrder);
  EXPECT_FALSE(denied());
}

TEST_F(NormaliserTest, AResetNotExactlyInSequenceClosesNothing) {
  open();
  send(0, kOrder.substr(0, 10));
  from_uplink(server_tcp(kHl7, kSport, kServerNext + 77, 0, kRst));
  from_guest(guest_tcp(kSport, kHl7, kStart + 400, 0, kRst));
  EXPECT_EQ(dropped("rst_not_exact"), 2);
  send(10, kAdmission.substr(10));
  EXPECT_TRUE(denied()) << "the stream still read whole";
  EXPECT_EQ(received().find("ADT"), std::string::npos);
}

TEST_F(NormaliserTest, AForgedSynAckDoesNotMakeTheNetworkTheGuestsPeer) {
  // A hospital host that may not reach the cabinet's 445 sends a SYN-ACK first, as if the
  // cabinet had opened the connection, then its own SYN.
  start(std::string(kOrdersOnly) + R"(  - name: cabinet-to-console
    direction: egress
    transport: tcp
    action: allow
)");
  from_uplink(server_tcp(40000, 445, 9000, 1, kSyn | kAck));
  from_uplink(server_tcp(40000, 445, 9000, 0, kSyn));
  for (const Bytes& f : sink_.to(Side::Guest)) {
    Decoded d;
    ASSERT_EQ(decode_frame(LinkType::Ethernet, f.data(), f.size(), f.size(), d), Malformed::None);
    EXPECT_TRUE(d.tcp_flags & kRst) << "nothing of the host's reaches the guest";
  }
  EXPECT_EQ(engine_->flows().size(), 0u);
  EXPECT_GE(metric("vitrine_netmon_rule_hits_total", {{"rule", "default"}, {"action", "deny"}}), 1);
}

TEST_F(NormaliserTest, AFlowPickedUpMidwayIsDeniedWhereMessagesAreJudged) {
  start(kOrdersOnly);
  send(0, kOrder);
  EXPECT_EQ(received(), "");
  EXPECT_EQ(metric("vitrine_netmon_rule_hits_total", {{"rule", "onMidstream"}}), 1);
  EXPECT_EQ(engine_->flows().size(), 0u) << "denied at its first packet: no flow entry";
  // A policy that reads nothing lets it through unread.
  start(std::string(kOrdersOnly) + "virtualPatches: {ms17-010: off, ms08-067: off, cve-2019-0708: off, ms06-040: off, ms04-011: off, ms05-039: off}\n" +
        "outcomes: {onMidstream: allow}\n");
  send(0, kOrder);
  EXPECT_EQ(metric("vitrine_netmon_rule_hits_total", {{"rule", "orders-to-pharmacy"}}), 1);
}

TEST_F(NormaliserTest, ACutFlowsContinuationIsDroppedAfterTheFlowLeavesTheTable) {
  start(std::string(kOrdersOnly) + "outcomes: {onMidstream: allow}\n");
  connect(kSport, kHl7);
  send(0, kAdmission);
  ASSERT_TRUE(denied());
  now_us_ += 11'000'000;  // past tcpClosedTimeout: the cut flow leaves the table
  engine_->on_tick(now_us_);
  ASSERT_EQ(engine_->flows().size(), 0u);
  const size_t before = sink_.to(Side::Uplink).size();
  send(kAdmission.size(), kAdmission);  // would be a fresh, unread midstream flow
  EXPECT_EQ(sink_.to(Side::Uplink).size(), before);
  EXPECT_EQ(dropped("cut_flow"), 1);
}

TEST_F(NormaliserTest, WhatWasDroppedIsReportedOncePerFlow) {
  open();
  for (int i = 0; i < 5; ++i) from_uplink(server_tcp(kHl7, kSport, kServerNext + 50 + static_cast<uint32_t>(i), 0, kRst));
  EXPECT_EQ(dropped("rst_not_exact"), 5);
  EXPECT_EQ(events_.count(Event::Kind::NormaliserDrop), 1u);
  EXPECT_EQ(events_.events.back().reason, "rst_not_exact");
}

TEST_F(NormaliserTest, AFinishedConnectionTakesNoMoreData) {
  open();
  send(0, kOrder, kAck | kPsh | kFin);
  send(kOrder.size() + 1, kAdmission);
  EXPECT_EQ(dropped("after_fin"), 1);
  EXPECT_EQ(received(), kOrder);
}

// HL7 messages after the first: each is held until its end block, so that nothing of one the
// rule refuses reaches the receiver, and what senders put around frames is read as they mean it.
TEST_F(NormaliserTest, ALaterMessageIsHeldUntilItsEndBlock) {
  open();
  send(0, kOrder);
  const size_t at = kOrder.size();
  send(at, kAdmission.substr(0, 30));
  EXPECT_EQ(received(), kOrder) << "the admission's first bytes wait for its FS";
  send(at + 30, kAdmission.substr(30));
  EXPECT_TRUE(denied());
  EXPECT_EQ(received(), kOrder) << "nothing of the admission reached the server";
  // The twin: a second order, split the same way, passes whole once its FS is in.
  open();
  send(0, kOrder);
  send(at, kOrder.substr(0, 30));
  EXPECT_EQ(received(), kOrder);
  send(at + 30, kOrder.substr(30));
  EXPECT_FALSE(denied());
  EXPECT_EQ(received(), kOrder + kOrder);
}

TEST_F(NormaliserTest, AMessageSentAByteASegmentIsHeldWhole) {
  // More segments than the hold's packet bound, which is for a verdict waiting on a protocol.
  open();
  send(0, kOrder);
  for (size_t i = 0; i < kOrder.size(); ++i) send(kOrder.size() + i, kOrder.substr(i, 1));
  EXPECT_FALSE(denied());
  EXPECT_EQ(received(), kOrder + kOrder);
  // The first message too, once its first bytes showed HL7.
  open();
  for (size_t i = 0; i < kOrder.size(); ++i) send(i, kOrder.substr(i, 1));
  EXPECT_FALSE(denied());
  EXPECT_EQ(received(), kOrder);
}

TEST_F(NormaliserTest, AMessageNotWholeWithinTheHoldBoundsIsUndetermined) {
  open();
  send(0, kOrder);
  send(kOrder.size(), kOrder.substr(0, 30));
  now_us_ += 2'001'000;  // limits.holdMilliseconds is 2000: the rest never came
  engine_->on_tick(now_us_);
  EXPECT_TRUE(denied()) << "onUndetermined is deny";
  EXPECT_EQ(received(), kOrder);
  EXPECT_EQ(metric("vitrine_netmon_limit_reached_total", {{"limit", "holdMilliseconds"}}), 1);
  // Bytes: a message larger than limits.holdBytes (64 KiB) cannot be held whole.
  open();
  send(0, kOrder);
  const std::string huge = kOrder.substr(0, kOrder.size() - 2) + "OBX|1|ED|PDF||" + std::string(70000, 'A');
  for (size_t at = 0; at < huge.size(); at += 1400) send(kOrder.size() + at, huge.substr(at, 1400));
  EXPECT_TRUE(denied());
  EXPECT_EQ(received(), kOrder);
  EXPECT_EQ(metric("vitrine_netmon_limit_reached_total", {{"limit", "holdBytes"}}), 1);
}

TEST_F(NormaliserTest, AFrameWithASecondMshIsMalformed) {
  const std::string batch = kOrder.substr(0, kOrder.size() - 2) +
                            "MSH|^~\\&|CABINET|WARD3|PHARMACY|MAIN|20261201083000||ADT^A04|MSG0002|P|2.5\r\x1c\r";
  open();
  send(0, batch);
  EXPECT_TRUE(denied());
  EXPECT_EQ(received().find("ADT"), std::string::npos);
  EXPECT_EQ(metric("vitrine_netmon_inspector_malformed_total", {{"protocol", "HL7"}, {"reason", "second_msh_segment"}}), 1);
}

TEST_F(NormaliserTest, LineBreaksBeforeTheFirstFrameAreTolerated) {
  open();
  send(0, "\r\n" + kOrder);
  EXPECT_FALSE(denied());
  EXPECT_EQ(received(), "\r\n" + kOrder);
  open();
  send(0, "\r\n");
  send(2, kAdmission);
  EXPECT_TRUE(denied());
  EXPECT_EQ(received().find("ADT"), std::string::npos);
}

TEST_F(NormaliserTest, AnEmptyFrameBeforeTheFirstMessageIsTolerated) {
  // An interface engine's keepalive (VT FS CR) first: the order after it is read and passes;
  // a forbidden message after one is still refused.
  open();
  send(0, "\x0b\x1c\r" + kOrder);
  EXPECT_FALSE(denied());
  EXPECT_EQ(received(), "\x0b\x1c\r" + kOrder);
  open();
  send(0, "\x0b\x1c\r");
  send(3, kAdmission);
  EXPECT_TRUE(denied());
  EXPECT_EQ(received().find("ADT"), std::string::npos);
}

TEST_F(NormaliserTest, ACutFlowsResetGoesToTheHoleNotPastBytesAheadOfIt) {
  // The admission's second half first (forwarded: the server cannot read it across the hole),
  // then its first half: refused, and the server's reset is at the hole, which it accepts.
  open();
  send(0, kOrder);
  const uint32_t at = static_cast<uint32_t>(kOrder.size()), half = static_cast<uint32_t>(kAdmission.size() / 2);
  send(at + half, kAdmission.substr(half));
  send(at, kAdmission.substr(0, half));
  ASSERT_TRUE(denied());
  std::vector<uint32_t> reset_seqs;
  for (const Bytes& frame : sink_.to(Side::Uplink)) {
    Decoded d;
    if (decode_frame(LinkType::Ethernet, frame.data(), frame.size(), frame.size(), d) == Malformed::None &&
        (d.tcp_flags & kRst))
      reset_seqs.push_back(d.tcp_seq);
  }
  ASSERT_FALSE(reset_seqs.empty());
  EXPECT_EQ(reset_seqs[0], kStart + at) << "the hole, which the server expects";
  EXPECT_EQ(received(), kOrder);
}
