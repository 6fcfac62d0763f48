// The TCP tracker: what a receiving host would take of a segment, and what it would discard or
// could read two ways (RFC 793, 5961, 7323), on segments built field by field.
#include <gtest/gtest.h>

#include "vitrine/netmon/tcp_tracker.h"

using namespace vitrine::netmon;
using namespace vitrine::netmon::tcp_flag;

namespace {

constexpr uint32_t kClientIsn = 1000, kServerIsn = 5000;

Decoded seg(uint32_t seq, uint32_t ack, uint8_t flags, uint32_t payload = 0, uint16_t window = 8192) {
  Decoded d;
  d.tcp_seq = seq;
  d.tcp_ack = ack;
  d.tcp_flags = flags;
  d.payload_len = payload;
  d.tcp_window = window;
  return d;
}

Decoded with_timestamp(Decoded d, uint32_t ts_val) {
  d.tcp_options.has_timestamp = true;
  d.tcp_options.ts_val = ts_val;
  return d;
}

// A connection after its handshake, windows of 8192 both ways (no scaling).
TcpState established() {
  TcpState s;
  EXPECT_EQ(track_segment(s, 0, seg(kClientIsn, 0, kSyn)).drop, NormDrop::None);
  EXPECT_EQ(track_segment(s, 1, seg(kServerIsn, kClientIsn + 1, kSyn | kAck)).drop, NormDrop::None);
  const TcpResult r = track_segment(s, 0, seg(kClientIsn + 1, kServerIsn + 1, kAck));
  EXPECT_EQ(r.drop, NormDrop::None);
  EXPECT_TRUE(r.established);
  return s;
}

NormDrop drop_of(TcpState& s, uint8_t endpoint, const Decoded& d) { return track_segment(s, endpoint, d).drop; }

}  // namespace

TEST(TcpTracker, TheHandshakeAnchorsBothStreams) {
  TcpState s = established();
  EXPECT_EQ(s.phase, TcpPhase::Established);
  EXPECT_EQ(s.stream_start(0), kClientIsn + 1);
  EXPECT_EQ(s.stream_start(1), kServerIsn + 1);
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 1, kServerIsn + 1, kAck | kPsh, 100)), NormDrop::None);
  EXPECT_EQ(drop_of(s, 1, seg(kServerIsn + 1, kClientIsn + 101, kAck | kPsh, 50)), NormDrop::None);
}

TEST(TcpTracker, TheHandshakesLastAckMayCarryData) {
  TcpState s;
  track_segment(s, 0, seg(kClientIsn, 0, kSyn));
  track_segment(s, 1, seg(kServerIsn, kClientIsn + 1, kSyn | kAck));
  const TcpResult r = track_segment(s, 0, seg(kClientIsn + 1, kServerIsn + 1, kAck | kPsh, 20));
  EXPECT_EQ(r.drop, NormDrop::None);
  EXPECT_TRUE(r.established);
  EXPECT_EQ(s.ep[0].next, kClientIsn + 21);
}

TEST(TcpTracker, WhatComesBeforeTheHandshakeIsDropped) {
  TcpState s;
  track_segment(s, 0, seg(kClientIsn, 0, kSyn));
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 1, 0, kAck | kPsh, 10)), NormDrop::BeforeHandshake);
  EXPECT_EQ(drop_of(s, 1, seg(kServerIsn, 0, kAck | kPsh, 10)), NormDrop::BeforeHandshake);
  EXPECT_EQ(drop_of(s, 1, seg(kServerIsn, kClientIsn + 7, kSyn | kAck)), NormDrop::BadSynAck);
  track_segment(s, 1, seg(kServerIsn, kClientIsn + 1, kSyn | kAck));
  EXPECT_EQ(drop_of(s, 1, seg(kServerIsn + 1, kClientIsn + 1, kAck | kPsh, 10)), NormDrop::BeforeHandshake)
      << "the responder speaks only once the handshake is complete";
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 1, kServerIsn + 99, kAck)), NormDrop::BadHandshakeAck);
  EXPECT_EQ(s.phase, TcpPhase::SynReceived) << "still half open";
  TcpState t;
  EXPECT_EQ(drop_of(t, 0, seg(kClientIsn, 0, kSyn, 12)), NormDrop::DataInSyn);
}

TEST(TcpTracker, FlagsNoStackSendsAreDropped) {
  TcpState s = established();
  for (uint8_t flags : {uint8_t(kSyn | kFin), uint8_t(kSyn | kRst), uint8_t(kRst | kFin | kAck), uint8_t(0),
                        uint8_t(kFin), uint8_t(kFin | kPsh | kUrg), uint8_t(kPsh)})
    EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 1, kServerIsn + 1, flags)), NormDrop::InvalidFlags) << int(flags);
  Decoded damaged = seg(kClientIsn + 1, kServerIsn + 1, kAck);
  damaged.tcp_options.bad = true;
  EXPECT_EQ(drop_of(s, 0, damaged), NormDrop::BadOptions);
}

TEST(TcpTracker, OnlyAnExactResetEndsTheConnection) {
  TcpState s = established();
  track_segment(s, 0, seg(kClientIsn + 1, kServerIsn + 1, kAck | kPsh, 100));
  EXPECT_EQ(drop_of(s, 1, seg(kServerIsn + 2, 0, kRst)), NormDrop::RstNotExact) << "in the window, not exact";
  EXPECT_EQ(drop_of(s, 1, seg(kServerIsn + 900000, 0, kRst)), NormDrop::RstNotExact);
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 50, 0, kRst)), NormDrop::RstNotExact);
  EXPECT_EQ(s.phase, TcpPhase::Established);
  const TcpResult r = track_segment(s, 0, seg(kClientIsn + 101, 0, kRst));
  EXPECT_EQ(r.drop, NormDrop::None);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(drop_of(s, 1, seg(kServerIsn + 1, kClientIsn + 101, kAck)), NormDrop::AfterReset);
}

TEST(TcpTracker, AResetAtWhatTheReceiverAcknowledgedIsExactToo) {
  TcpState s = established();
  track_segment(s, 0, seg(kClientIsn + 1, kServerIsn + 1, kAck | kPsh, 100));  // not yet acknowledged
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 1, 0, kRst)), NormDrop::None) << "the server's rcv_nxt";
}

TEST(TcpTracker, AResetAtTheEndOfBytesSentPastAHoleIsNotExact) {
  TcpState s = established();
  // The second half first: the receiver's next expected byte is still the first half's start.
  track_segment(s, 0, seg(kClientIsn + 51, kServerIsn + 1, kAck | kPsh, 50));
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 101, 0, kRst)), NormDrop::RstNotExact) << "the host would ignore it";
  EXPECT_EQ(s.phase, TcpPhase::Established);
  track_segment(s, 0, seg(kClientIsn + 1, kServerIsn + 1, kAck | kPsh, 50));  // the hole filled
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 101, 0, kRst)), NormDrop::RstNotExact)
      << "whether the receiver has the second half is known once it says so";
  track_segment(s, 1, seg(kServerIsn + 1, kClientIsn + 101, kAck));
  const TcpResult r = track_segment(s, 0, seg(kClientIsn + 101, 0, kRst));
  EXPECT_EQ(r.drop, NormDrop::None);
  EXPECT_TRUE(r.closed);
}

TEST(TcpTracker, ARefusedConnectIsResetOnlyByWhatAcknowledgesTheSyn) {
  TcpState s;
  track_segment(s, 0, seg(kClientIsn, 0, kSyn));
  EXPECT_EQ(drop_of(s, 1, seg(0, kClientIsn + 5, kRst | kAck)), NormDrop::RstNotExact);
  EXPECT_EQ(drop_of(s, 1, seg(0, 0, kRst)), NormDrop::RstNotExact);
  EXPECT_EQ(drop_of(s, 1, seg(0, kClientIsn + 1, kRst | kAck)), NormDrop::None);
  EXPECT_EQ(s.phase, TcpPhase::Reset);
}

TEST(TcpTracker, ASynOnASynchronisedConnectionIsDropped) {
  TcpState s = established();
  EXPECT_EQ(drop_of(s, 0, seg(77, 0, kSyn)), NormDrop::SynAfterHandshake);
  EXPECT_EQ(drop_of(s, 1, seg(kServerIsn + 3, kClientIsn + 1, kSyn | kAck)), NormDrop::SynAfterHandshake);
  EXPECT_EQ(drop_of(s, 1, seg(kServerIsn, kClientIsn + 1, kSyn | kAck)), NormDrop::None)
      << "the SYN-ACK again: the client answers it with an ACK";
}

TEST(TcpTracker, SegmentsOutsideTheReceiversWindowAreDropped) {
  TcpState s = established();
  // The server offered 8192 bytes from kClientIsn + 1.
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 1 + 8192, kServerIsn + 1, kAck | kPsh, 1)), NormDrop::OutsideWindow);
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 1 + 1000000, kServerIsn + 1, kAck | kPsh, 10)), NormDrop::OutsideWindow)
      << "a decoy far ahead in sequence space";
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 1 + 8000, kServerIsn + 1, kAck | kPsh, 192)), NormDrop::None)
      << "up to the window's right edge, ahead of a hole";
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn - 100000, kServerIsn + 1, kAck | kPsh, 10)), NormDrop::OutsideWindow)
      << "far behind what the receiver has";
}

TEST(TcpTracker, WindowScalingWidensTheWindowOnceBothOfferIt) {
  TcpState s;
  Decoded syn = seg(kClientIsn, 0, kSyn, 0, 65535);
  syn.tcp_options.window_scale = 7;
  track_segment(s, 0, syn);
  Decoded synack = seg(kServerIsn, kClientIsn + 1, kSyn | kAck, 0, 65535);
  synack.tcp_options.window_scale = 7;
  track_segment(s, 1, synack);
  track_segment(s, 0, seg(kClientIsn + 1, kServerIsn + 1, kAck, 0, 1000));  // 1000 << 7 = 128000
  EXPECT_TRUE(s.scaling);
  EXPECT_EQ(drop_of(s, 1, seg(kServerIsn + 1 + 100000, kClientIsn + 1, kAck | kPsh, 1000)), NormDrop::None);
  EXPECT_EQ(drop_of(s, 1, seg(kServerIsn + 1 + 130000, kClientIsn + 1, kAck | kPsh, 1000)), NormDrop::OutsideWindow);
}

TEST(TcpTracker, AnAckForDataNeverSentIsDropped) {
  TcpState s = established();
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 1, kServerIsn + 500, kAck | kPsh, 10)), NormDrop::AckUnsent);
  track_segment(s, 1, seg(kServerIsn + 1, kClientIsn + 1, kAck | kPsh, 600));
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 1, kServerIsn + 500, kAck | kPsh, 10)), NormDrop::None);
}

TEST(TcpTracker, DataPastTheSendersFinIsDropped) {
  TcpState s = established();
  track_segment(s, 0, seg(kClientIsn + 1, kServerIsn + 1, kAck | kPsh | kFin, 10));
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 11, kServerIsn + 1, kAck | kPsh, 5)), NormDrop::AfterFin);
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 1, kServerIsn + 1, kAck | kPsh | kFin, 10)), NormDrop::None) << "again";
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 12, kServerIsn + 1, kAck)), NormDrop::None) << "its last ACK";
}

TEST(TcpTracker, TimestampsOnceNegotiatedAreHeldToPaws) {
  TcpState s;
  track_segment(s, 0, with_timestamp(seg(kClientIsn, 0, kSyn), 100));
  track_segment(s, 1, with_timestamp(seg(kServerIsn, kClientIsn + 1, kSyn | kAck), 9000));
  track_segment(s, 0, with_timestamp(seg(kClientIsn + 1, kServerIsn + 1, kAck), 101));
  ASSERT_TRUE(s.timestamps);
  EXPECT_EQ(drop_of(s, 0, with_timestamp(seg(kClientIsn + 1, kServerIsn + 1, kAck | kPsh, 10), 150)), NormDrop::None);
  EXPECT_EQ(drop_of(s, 0, with_timestamp(seg(kClientIsn + 1, kServerIsn + 1, kAck | kPsh, 10), 120)), NormDrop::Paws)
      << "an old timestamp: the host discards it";
  EXPECT_EQ(drop_of(s, 0, with_timestamp(seg(kClientIsn + 11, kServerIsn + 1, kAck | kPsh, 10), 149)), NormDrop::None)
      << "one tick of reordering is not an attack";
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 11, kServerIsn + 1, kAck | kPsh, 10)), NormDrop::TimestampMissing);
}

TEST(TcpTracker, AKeepaliveOneByteBehindIsTaken) {
  TcpState s = established();
  track_segment(s, 0, seg(kClientIsn + 1, kServerIsn + 1, kAck | kPsh, 100));
  track_segment(s, 1, seg(kServerIsn + 1, kClientIsn + 101, kAck));
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 100, kServerIsn + 1, kAck, 1)), NormDrop::None) << "XP: one byte";
  EXPECT_EQ(drop_of(s, 0, seg(kClientIsn + 100, kServerIsn + 1, kAck)), NormDrop::None) << "Linux: none";
}

TEST(TcpTracker, AConnectionPickedUpMidwayIsMidstream) {
  TcpState s;
  EXPECT_EQ(drop_of(s, 0, seg(7777, 8888, kAck | kPsh, 10)), NormDrop::None);
  EXPECT_EQ(s.phase, TcpPhase::Midstream);
  TcpState t;
  EXPECT_EQ(drop_of(t, 0, seg(kServerIsn, kClientIsn + 1, kSyn | kAck)), NormDrop::None);
  EXPECT_EQ(t.phase, TcpPhase::Midstream) << "a SYN-ACK seen first opens no handshake";
  EXPECT_EQ(drop_of(t, 1, seg(kClientIsn, 0, kSyn)), NormDrop::SynAfterHandshake);
}

TEST(TcpTracker, SequenceNumbersWrapAround) {
  TcpState s;
  track_segment(s, 0, seg(0xfffffff0, 0, kSyn));
  track_segment(s, 1, seg(kServerIsn, 0xfffffff1, kSyn | kAck));
  track_segment(s, 0, seg(0xfffffff1, kServerIsn + 1, kAck));
  EXPECT_EQ(drop_of(s, 0, seg(0xfffffff1, kServerIsn + 1, kAck | kPsh, 100)), NormDrop::None);
  EXPECT_EQ(s.ep[0].next, 0x55u);
  EXPECT_EQ(drop_of(s, 1, seg(kServerIsn + 1, 0x55, kAck)), NormDrop::None);
}
