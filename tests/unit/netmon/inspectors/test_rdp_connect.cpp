// The start of an RDP connection on byte arrays: the X.224 request and confirm, the channel
// list of the MCS Connect-Initial (where BlueKeep asks for MS_T120), and what is refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine_fixture.h"
#include "packet_bytes.h"
#include "rdp/rdp_connect.h"
#include "rdp/rdp_inspector.h"
#include "rdp/rdp_malformed.h"

using namespace vitrine::netmon;
using namespace vitrine::netmon::rdp;

namespace {

using vitrine::testing::append;
using vitrine::testing::Bytes;
using vitrine::testing::put_le16;
using vitrine::testing::put_le32;

Bytes tpkt(const Bytes& payload) {
  const size_t n = payload.size() + 4;
  Bytes b = {0x03, 0x00, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  append(b, payload);
  return b;
}

// X.224 CR with an optional cookie and an RDP_NEG_REQ.
Bytes connection_request(const std::string& cookie, uint32_t protocols) {
  Bytes x = {0xe0, 0, 0, 0, 0, 0};
  if (!cookie.empty()) {
    const std::string line = "Cookie: " + cookie + "\r\n";
    append(x, Bytes(line.begin(), line.end()));
  }
  append(x, {0x01, 0x00, 0x08, 0x00});
  put_le32(x, protocols);
  Bytes li = {static_cast<uint8_t>(x.size())};
  append(li, x);
  return tpkt(li);
}

Bytes connection_confirm(uint8_t type, uint32_t value) {
  Bytes x = {0x0e, 0xd0, 0, 0, 0x12, 0x34, 0, type, 0x00, 0x08, 0x00};
  put_le32(x, value);
  return tpkt(x);
}

// A BER element with a definite length (long form past 127).
Bytes ber(uint8_t tag, const Bytes& content) {
  Bytes b = {tag};
  if (content.size() < 0x80) {
    b.push_back(static_cast<uint8_t>(content.size()));
  } else {
    b.push_back(0x82);
    b.push_back(static_cast<uint8_t>(content.size() >> 8));
    b.push_back(static_cast<uint8_t>(content.size()));
  }
  append(b, content);
  return b;
}

Bytes per_length(size_t n) {
  return {static_cast<uint8_t>(0x80 | n >> 8), static_cast<uint8_t>(n)};
}

// CS_CORE (cut to its version) and CS_NET asking for `channels` (8 bytes a name, as sent).
Bytes client_blocks(const std::vector<std::string>& channels) {
  Bytes blocks = {0x01, 0xc0, 0x08, 0x00, 0x04, 0x00, 0x08, 0x00};
  Bytes net;
  put_le16(net, 0xc003);
  put_le16(net, static_cast<uint32_t>(8 + 12 * channels.size()));
  put_le32(net, static_cast<uint32_t>(channels.size()));
  for (const auto& c : channels) {
    for (size_t i = 0; i < 8; ++i) net.push_back(i < c.size() ? static_cast<uint8_t>(c[i]) : 0);
    put_le32(net, 0x80800000);
  }
  append(blocks, net);
  return blocks;
}

// The GCC Conference Create Request as every client encodes it ([MS-RDPBCGR] 4.1.3).
Bytes gcc_request(const Bytes& blocks) {
  Bytes request = {0x00, 0x08, 0x00, 0x10, 0x00, 0x01, 0xc0, 0x00, 'D', 'u', 'c', 'a'};
  append(request, per_length(blocks.size()));
  append(request, blocks);
  Bytes gcc = {0x00, 0x05, 0x00, 0x14, 0x7c, 0x00, 0x01};
  append(gcc, per_length(request.size()));
  append(gcc, request);
  return gcc;
}

// X.224 Data with an MCS Connect-Initial ([T.125]): domain selectors, upward flag, the three
// domain parameter sets, and the GCC request as userData.
Bytes connect_initial_with(const Bytes& calling, const Bytes& user_data) {
  const Bytes params = ber(0x30, {0x02, 0x01, 0x22, 0x02, 0x01, 0x02, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01,
                                  0x02, 0x01, 0x00, 0x02, 0x01, 0x01, 0x02, 0x02, 0xff, 0xff, 0x02, 0x01, 0x02});
  Bytes body = ber(0x04, calling);
  append(body, ber(0x04, {0x01}));
  append(body, {0x01, 0x01, 0xff});
  for (int i = 0; i < 3; ++i) append(body, params);
  append(body, ber(0x04, user_data));
  Bytes mcs = ber(0x65, body);
  mcs.insert(mcs.begin(), 0x7f);
  Bytes x = {0x02, 0xf0, 0x80};
  append(x, mcs);
  return tpkt(x);
}

Bytes connect_initial(const std::vector<std::string>& channels) {
  return connect_initial_with({0x01}, gcc_request(client_blocks(channels)));
}

TEST(RdpConnect, TheRequestSaysWhoAndWhichSecurity) {
  const Bytes cr = connection_request("mstshash=nurse1", kProtocolSsl | kProtocolHybrid);
  EXPECT_EQ(looks_like_connection_request(cr.data(), cr.size()), Recognition::Yes);
  // The TPKT header and the X.224 code, six bytes in, are enough: what follows is the
  // inspector's to read (and to call malformed, a first TPDU that is not a connection request
  // among it).
  for (size_t n : {size_t{0}, size_t{1}, size_t{4}, size_t{5}})
    EXPECT_EQ(looks_like_connection_request(cr.data(), n), Recognition::NeedMore) << n;
  EXPECT_EQ(looks_like_connection_request(cr.data(), 6), Recognition::Yes);
  const Bytes empty_tpkt = {0x03, 0x00, 0x00, 0x04};
  EXPECT_EQ(looks_like_connection_request(empty_tpkt.data(), empty_tpkt.size()), Recognition::Yes);
  const Bytes data_tpdu = {0x03, 0x00, 0x00, 0x08, 0x02, 0xf0, 0x80, 0x00};
  EXPECT_EQ(looks_like_connection_request(data_tpdu.data(), data_tpdu.size()), Recognition::Yes);
  const Bytes not_tpkt = {0x16, 0x03, 0x01, 0x00, 0x20};
  EXPECT_EQ(looks_like_connection_request(not_tpkt.data(), not_tpkt.size()), Recognition::No);
  // TDS (SQL Server) RPC packets start with 3 too; their next bytes are no X.224 TPDU.
  const Bytes tds_rpc = {0x03, 0x01, 0x00, 0x40, 0x00, 0x00, 0x01, 0x00};
  EXPECT_EQ(looks_like_connection_request(tds_rpc.data(), tds_rpc.size()), Recognition::No);
  Bytes odd = connection_request("", 0);
  odd[4 + 7] = 0x02;  // a negotiation type XP does not know: still RDP, for the inspector to judge
  EXPECT_EQ(looks_like_connection_request(odd.data(), odd.size()), Recognition::Yes);
  Bytes short_li = connection_request("", 0);
  short_li[4] = 2;  // a length indicator shorter than the request's fixed part
  EXPECT_EQ(looks_like_connection_request(short_li.data(), short_li.size()), Recognition::Yes);
  ConnectionRequest refused;
  EXPECT_EQ(parse_connection_request(short_li.data(), short_li.size(), refused), ParseStatus::Error) << "the inspector's to refuse";
  ConnectionRequest rq;
  ASSERT_EQ(parse_connection_request(cr.data(), cr.size(), rq), ParseStatus::Ok);
  EXPECT_EQ(rq.cookie, "mstshash=nurse1");
  EXPECT_TRUE(rq.negotiates);
  EXPECT_EQ(rq.requested_protocols, kProtocolSsl | kProtocolHybrid);
  ConnectionConfirm cc;
  const Bytes ok = connection_confirm(0x02, kProtocolHybrid);
  ASSERT_EQ(parse_connection_confirm(ok.data(), ok.size(), cc), ParseStatus::Ok);
  EXPECT_EQ(cc.selected_protocol, kProtocolHybrid);
  const Bytes failed = connection_confirm(0x03, 5);
  ASSERT_EQ(parse_connection_confirm(failed.data(), failed.size(), cc), ParseStatus::Ok);
  EXPECT_TRUE(cc.failure);
}

TEST(RdpConnect, TheConnectInitialListsTheChannelsAsked) {
  const Bytes ci = connect_initial({"rdpdr", "MS_T120", "cliprdr"});
  ConnectInitial out;
  ASSERT_EQ(parse_connect_initial(ci.data(), ci.size(), out), ParseStatus::Ok);
  EXPECT_EQ(out.channels, (std::vector<std::string>{"rdpdr", "MS_T120", "cliprdr"}));
}

TEST(RdpConnect, WhatIsNotTheConnectionSequenceIsRefused) {
  ConnectionRequest rq;
  Bytes cr = connection_request("", 0);
  cr[3] += 1;  // the TPKT's length disagrees with the bytes
  EXPECT_EQ(parse_connection_request(cr.data(), cr.size(), rq), ParseStatus::Error);
  const Bytes tls = {0x16, 0x03, 0x01, 0x00, 0x20, 0x01};
  EXPECT_EQ(looks_like_connection_request(tls.data(), tls.size()), Recognition::No);
  EXPECT_EQ(looks_like_connection_request(tls.data(), 1), Recognition::No);
  // A request padded past what recognition waits for is still handed to the inspector.
  Bytes padded = connection_request(std::string(2000, 'x'), 0);
  EXPECT_EQ(looks_like_connection_request(padded.data(), 64), Recognition::Yes);
  Bytes ci = connect_initial({"MS_T120"});
  ConnectInitial out;
  ci[ci.size() - 16] = 0xff;  // the channel count: far more than 31
  ci[ci.size() - 15] = 0xff;
  EXPECT_EQ(parse_connect_initial(ci.data(), ci.size(), out), ParseStatus::Error);
  const Bytes cut(ci.begin(), ci.begin() + 30);
  EXPECT_EQ(parse_connect_initial(cut.data(), cut.size(), out), ParseStatus::Error);
}

TEST(RdpConnect, TheConnectInitialIsReadElementByElementNotSearched) {
  // A decoy "Duca" and client data without MS_T120 in the calling domain selector: the
  // server reads the selector as a selector, and the real request asks for MS_T120.
  Bytes decoy = {'D', 'u', 'c', 'a'};
  append(decoy, per_length(client_blocks({"rdpdr"}).size()));
  append(decoy, client_blocks({"rdpdr"}));
  const Bytes ci = connect_initial_with(decoy, gcc_request(client_blocks({"rdpdr", "MS_T120"})));
  ConnectInitial out;
  ASSERT_EQ(parse_connect_initial(ci.data(), ci.size(), out), ParseStatus::Ok);
  EXPECT_EQ(out.channels, (std::vector<std::string>{"rdpdr", "MS_T120"}));
  // What the server reads of a name is its first 7 characters.
  ASSERT_EQ(parse_connect_initial(connect_initial({"MS_T120X"}).data(), connect_initial({"MS_T120X"}).size(), out),
            ParseStatus::Ok);
  EXPECT_EQ(out.channels, (std::vector<std::string>{"MS_T120"}));
  // Any other shape is refused rather than searched: another GCC encoding, client data that
  // does not fill userData, lengths that disagree, an indefinite BER length, a missing field.
  Bytes other_gcc = gcc_request(client_blocks({"MS_T120"}));
  other_gcc[9 + 2] = 0x20;  // the numeric string's length: another conference name
  Bytes trailing = gcc_request(client_blocks({"MS_T120"}));
  trailing.push_back(0);
  Bytes longer = gcc_request(client_blocks({"MS_T120"}));
  longer[8] += 1;  // connectPDU's PER length
  std::vector<Bytes> refused = {connect_initial_with({0x01}, other_gcc), connect_initial_with({0x01}, trailing),
                                connect_initial_with({0x01}, longer)};
  Bytes indefinite = connect_initial({"MS_T120"});
  indefinite[4 + 3 + 2] = 0x80;  // the Connect-Initial's own length
  refused.push_back(indefinite);
  Bytes no_upward = connect_initial({"MS_T120"});
  no_upward[4 + 3 + 5 + 3 + 3] = 0x02;  // the upward flag's tag: INTEGER, not BOOLEAN
  refused.push_back(no_upward);
  for (size_t i = 0; i < refused.size(); ++i)
    EXPECT_EQ(parse_connect_initial(refused[i].data(), refused[i].size(), out), ParseStatus::Error) << i;
}

TEST(RdpInspector, ASecondConnectInitialIsReadToo) {
  const Bytes cr = connection_request("", 0), cc = connection_confirm(0x02, 0);
  const Bytes first = connect_initial({"rdpdr"}), second = connect_initial({"rdpdr", "MS_T120"});
  RdpInspector inspector;
  InspectionOutput out;
  inspector.on_bytes(true, cr.data(), cr.size(), 0, out);
  inspector.on_bytes(false, cc.data(), cc.size(), 0, out);
  inspector.on_bytes(true, first.data(), first.size(), 0, out);
  const Bytes erect = tpkt({0x02, 0xf0, 0x80, 0x04, 0x01, 0x00, 0x01, 0x00});  // MCS Erect Domain: not read
  inspector.on_bytes(true, erect.data(), erect.size(), 0, out);
  inspector.on_bytes(true, second.data(), second.size(), 0, out);
  ASSERT_EQ(out.messages.size(), 4u);
  EXPECT_EQ(out.messages[2].signature, "");
  EXPECT_EQ(out.messages[3].signature, kSignatureMsT120);
}

TEST(RdpInspector, ASecondConnectInitialWithALongerX224HeaderIsReadToo) {
  // Its length indicator says 3: the MCS PDU starts one byte later, and is read there.
  const Bytes cr = connection_request("", 0), cc = connection_confirm(0x02, 0);
  const Bytes first = connect_initial({"rdpdr"}), second = connect_initial({"rdpdr", "MS_T120"});
  Bytes longer(second.begin(), second.begin() + 7);
  longer[4] = 3;
  longer.push_back(0x00);
  longer.insert(longer.end(), second.begin() + 7, second.end());
  const size_t n = longer.size();
  longer[2] = static_cast<uint8_t>(n >> 8), longer[3] = static_cast<uint8_t>(n);
  RdpInspector inspector;
  InspectionOutput out;
  inspector.on_bytes(true, cr.data(), cr.size(), 0, out);
  inspector.on_bytes(false, cc.data(), cc.size(), 0, out);
  inspector.on_bytes(true, first.data(), first.size(), 0, out);
  inspector.on_bytes(true, longer.data(), longer.size(), 0, out);
  ASSERT_EQ(out.messages.size(), 4u);
  EXPECT_EQ(out.messages[3].signature, kSignatureMsT120);
}

TEST(RdpInspector, AStreamWhoseFirstTpduIsNoConnectionRequestIsMalformed) {
  // An empty TPKT before the request: recognised as RDP, and malformed, never left unread.
  Bytes stream = {0x03, 0x00, 0x00, 0x04};
  const Bytes cr = connection_request("", 0);
  stream.insert(stream.end(), cr.begin(), cr.end());
  EXPECT_EQ(looks_like_connection_request(stream.data(), stream.size()), Recognition::Yes);
  RdpInspector inspector;
  InspectionOutput out;
  inspector.on_bytes(true, stream.data(), stream.size(), 0, out);
  ASSERT_EQ(out.malformed.size(), 1u);
  EXPECT_EQ(out.malformed[0], &vitrine::netmon::rdp::malformed::kNoConnectionRequest);
}

TEST(RdpInspector, ATpktWithItsReservedByteSetIsMalformedAndStillRead) {
  const Bytes cc = connection_confirm(0x02, 0);
  Bytes cr = connection_request("", 0), ci = connect_initial({"MS_T120"});
  cr[1] = 0x01;  // TPKT's reserved byte
  EXPECT_EQ(looks_like_connection_request(cr.data(), cr.size()), Recognition::Yes) << "recognised all the same";
  ci[1] = 0x7f;
  RdpInspector odd;
  InspectionOutput out;
  odd.on_bytes(true, cr.data(), cr.size(), 0, out);
  odd.on_bytes(false, cc.data(), cc.size(), 0, out);
  odd.on_bytes(true, ci.data(), ci.size(), 0, out);
  ASSERT_EQ(out.malformed.size(), 1u);
  EXPECT_EQ(out.malformed[0], &vitrine::netmon::rdp::malformed::kTpktReserved);
  ASSERT_EQ(out.messages.size(), 3u);
  EXPECT_EQ(out.messages[2].signature, kSignatureMsT120) << "and still read";
}

TEST(RdpInspector, AClientAskingForMsT120IsTheBlueKeepSignature) {
  for (const char* channel : {"MS_T120", "ms_t120"}) {
    RdpInspector inspector;
    InspectionOutput out;
    const Bytes cr = connection_request("mstshash=x", 0), cc = connection_confirm(0x02, 0);
    const Bytes ci = connect_initial({"rdpdr", channel});
    inspector.on_bytes(true, cr.data(), cr.size(), 1000, out);
    inspector.on_bytes(false, cc.data(), cc.size(), 3000, out);
    // The Connect-Initial in two pieces, as TCP may deliver it.
    inspector.on_bytes(true, ci.data(), 10, 4000, out);
    inspector.on_bytes(true, ci.data() + 10, ci.size() - 10, 4000, out);
    ASSERT_EQ(out.messages.size(), 3u);
    EXPECT_EQ(out.messages[1].ack_latency_seconds.value_or(0), 0.002);
    EXPECT_EQ(out.messages[2].signature, kSignatureMsT120) << channel;
    EXPECT_TRUE(out.malformed.empty());
  }
  // The same without MS_T120, and with TLS chosen (the channel list is then encrypted).
  RdpInspector plain;
  InspectionOutput out;
  const Bytes cr = connection_request("", 0), ci = connect_initial({"rdpdr", "cliprdr"});
  plain.on_bytes(true, cr.data(), cr.size(), 0, out);
  plain.on_bytes(true, ci.data(), ci.size(), 0, out);
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(out.messages[1].signature, "");
  RdpInspector tls;
  InspectionOutput tls_out;
  const Bytes cc = connection_confirm(0x02, kProtocolSsl), hello = {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5};
  tls.on_bytes(true, cr.data(), cr.size(), 0, tls_out);
  tls.on_bytes(false, cc.data(), cc.size(), 0, tls_out);
  tls.on_bytes(true, hello.data(), hello.size(), 0, tls_out);
  ASSERT_EQ(tls_out.messages.size(), 2u);
  EXPECT_TRUE(tls_out.malformed.empty()) << "TLS after negotiation is not malformed";
  // The server's choice of TLS or CredSSP blinds the BlueKeep patch, and says so; standard
  // security does not.
  EXPECT_EQ(tls_out.messages[1].blinds, vitrine::policy::VirtualPatch::Cve20190708);
  EXPECT_STREQ(tls_out.messages[1].blind_reason, "tls");
  const auto confirm_of = [&](uint32_t choice) {
    RdpInspector inspector;
    InspectionOutput o;
    const Bytes confirm = connection_confirm(0x02, choice);
    inspector.on_bytes(true, cr.data(), cr.size(), 0, o);
    inspector.on_bytes(false, confirm.data(), confirm.size(), 0, o);
    return o.messages.size() == 2 ? o.messages[1] : InspectedMessage{};
  };
  EXPECT_STREQ(confirm_of(kProtocolHybrid).blind_reason, "credssp");
  EXPECT_STREQ(confirm_of(kProtocolHybridEx).blind_reason, "credssp-early-auth");
  EXPECT_EQ(confirm_of(0).type, "X.224-CC");
  EXPECT_FALSE(confirm_of(0).blinds.has_value());
}

// Through the engine: an inbound RDP session whose server chooses TLS is counted as one the
// BlueKeep patch cannot read; with the patch off, nothing is counted (no blind spot to report).
class RdpEngineTest : public vitrine::testing::EngineTest {
 protected:
  void session(uint32_t server_choice) {
    using namespace vitrine::testing;
    using namespace vitrine::netmon::tcp_flag;
    const Bytes cr = connection_request("mstshash=x", kProtocolSsl | kProtocolHybrid);
    const Bytes cc = connection_confirm(0x02, server_choice);
    const std::string request(cr.begin(), cr.end()), confirm(cc.begin(), cc.end());
    from_uplink(server_tcp(50000, 3389, 1, 0, kSyn));
    from_guest(guest_tcp(3389, 50000, 100, 2, kSyn | kAck));
    from_uplink(server_tcp(50000, 3389, 2, 101, kAck | kPsh, request));
    from_guest(guest_tcp(3389, 50000, 101, 2 + static_cast<uint32_t>(request.size()), kAck | kPsh, confirm));
  }
  static constexpr const char* kInboundRdp = R"(rules:
  - name: rdp-from-management
    direction: ingress
    transport: tcp
    ports: [3389]
    action: allow
)";
};

TEST_F(RdpEngineTest, ASessionTheServerEncryptsIsCountedAsUnreadableByThePatch) {
  start(kInboundRdp);
  session(kProtocolSsl);
  EXPECT_EQ(metric("vitrine_netmon_virtual_patch_blind_total", {{"patch", "cve-2019-0708"}, {"reason", "tls"}}), 1);
  EXPECT_EQ(metric("vitrine_netmon_messages_total", {{"protocol", "RDP"}, {"type", "X.224-CC"}}), 1)
      << "the confirm was read";
}

TEST_F(RdpEngineTest, StandardSecurityOrThePatchOffIsNoBlindSpot) {
  start(kInboundRdp);
  session(0);
  EXPECT_EQ(metric("vitrine_netmon_virtual_patch_blind_total"), -1);
  start(std::string(kInboundRdp) + "virtualPatches: {cve-2019-0708: off}\n");
  session(kProtocolSsl);
  EXPECT_EQ(metric("vitrine_netmon_virtual_patch_blind_total"), -1);
}

}  // namespace
