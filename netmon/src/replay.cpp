#include "vitrine/netmon/replay.h"

#include <unordered_map>

#include <pcap/pcap.h>

#include <chrono>
#include <optional>
#include <stdexcept>

#include "vitrine/common/json_line.h"
#include "vitrine/common/jsonl_writer.h"
#include "vitrine/netmon/engine.h"

namespace vitrine::netmon {

namespace {

// Where replay's frames go: nowhere, or into a capture of what was forwarded.
class ReplaySink final : public FrameSink {
 public:
  explicit ReplaySink(const std::string& path) {
    if (path.empty()) return;
    dead_.reset(pcap_open_dead(DLT_EN10MB, 65535));
    dumper_ = pcap_dump_open(dead_.get(), path.c_str());
    if (dumper_ == nullptr) throw std::runtime_error(path + ": " + pcap_geterr(dead_.get()));
  }
  ~ReplaySink() override {
    if (dumper_ != nullptr) pcap_dump_close(dumper_);
  }
  ReplaySink(const ReplaySink&) = delete;
  ReplaySink& operator=(const ReplaySink&) = delete;
  bool send(Side, const uint8_t* data, size_t len) override {
    if (dumper_ == nullptr) return true;
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(now_us / 1000000);
    h.ts.tv_usec = static_cast<suseconds_t>(now_us % 1000000);
    h.caplen = h.len = static_cast<bpf_u_int32>(len);
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, data);
    return true;
  }
  uint64_t now_us = 0;  // the time of the frame being replayed

 private:
  std::unique_ptr<pcap_t, void (*)(pcap_t*)> dead_{nullptr, pcap_close};
  pcap_dumper_t* dumper_ = nullptr;
};

std::string hex(const uint8_t* data, size_t len) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::optional<LinkType> link_type_of(int dlt) {
  switch (dlt) {
    case DLT_EN10MB: return LinkType::Ethernet;
    case DLT_NULL:
    case DLT_LOOP: return LinkType::Null;
    case DLT_RAW:
#ifdef DLT_IPV4
    case DLT_IPV4:
    case DLT_IPV6:
#endif
      return LinkType::Raw;
    case DLT_LINUX_SLL: return LinkType::LinuxSll;
    default: return std::nullopt;
  }
}

using PcapHandle = std::unique_ptr<pcap_t, void (*)(pcap_t*)>;

PcapHandle open_capture(const std::string& pcap_path, LinkType& link) {
  char err[PCAP_ERRBUF_SIZE] = {};
  PcapHandle pcap(pcap_open_offline_with_tstamp_precision(pcap_path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, err),
                  pcap_close);
  if (!pcap) throw std::runtime_error(pcap_path + ": " + err);
  const auto known = link_type_of(pcap_datalink(pcap.get()));
  if (!known) throw std::runtime_error(pcap_path + ": unsupported link type " + std::to_string(pcap_datalink(pcap.get())));
  link = *known;
  return pcap;
}

// Each byte the inspectors are handed, as JSON lines (--inspected).
std::unique_ptr<JsonLinesWriter> record_inspected(Engine& engine, const std::string& path) {
  if (path.empty()) return nullptr;
  auto out = std::make_unique<JsonLinesWriter>(path, JsonLinesWriter::Mode::Replace);
  engine.set_stream_hook([w = out.get()](const Flow& f, uint8_t endpoint, uint64_t offset, const uint8_t* data, size_t len) {
    w->write({{"l4", l4_name(f.ip_protocol)},
              {"src", f.initiator_ip().str()},
              {"sport", f.initiator_port()},
              {"dst", f.responder_ip().str()},
              {"dport", f.responder_port()},
              {"endpoint", endpoint},
              {"offset", offset},
              {"hex", hex(data, len)}});
  });
  return out;
}

// One JSON record a flow, at its end, with the messages judged in it (--flows).
class FlowRecorder {
 public:
  // A long-lived flow's list of messages is cut short.
  static constexpr size_t kMaxMessagesPerRecord = 100;

  FlowRecorder(const NdpiClassifier& classifier, const FlowRecordSink& on_flow, uint64_t& flows)
      : classifier_(classifier), on_flow_(on_flow), flows_(flows) {}

  void attach(Engine& engine) {
    if (on_flow_) engine.set_message_hook([this](const Flow& f, const InspectedMessage& m) { on_message(f, m); });
    engine.set_flow_end_hook([this](const Flow& f) {
      ++flows_;
      if (on_flow_) on_flow_(record_of(f));
    });
  }

 private:
  struct Messages {
    std::string list;  // each already as JSON text
    size_t listed = 0;
    uint64_t omitted = 0;
  };

  void on_message(const Flow& f, const InspectedMessage& m) {
    Messages& record = messages_[&f];
    if (record.listed >= kMaxMessagesPerRecord) {
      ++record.omitted;
      return;
    }
    const bool guest_sent = m.from_initiator == (f.direction == policy::Direction::Egress);
    JsonLine message;
    message.field("direction", guest_sent ? "egress" : "ingress")
        .field("type", m.type)
        .field("judged", m.from_initiator && m.judge)
        .field("verdict", to_string(f.verdict));
    if (!m.signature.empty()) message.field("signature", m.signature);
    record.list += (record.listed++ ? "," : "") + message.str();
  }

  std::string record_of(const Flow& f) {
    const auto& c = f.classification;
    JsonLine record;
    record.field("l4", l4_name(f.ip_protocol))
        .field("src", f.initiator_ip().str())
        .field("sport", uint64_t{f.initiator_port()})
        .field("dst", f.responder_ip().str())
        .field("dport", uint64_t{f.responder_port()})
        .field("direction", policy::to_string(f.direction))
        .field("protocol", classifier_.label(c.protocol))
        .field("confidence", c.by_inspection                                   ? "dpi"
                             : (c.protocol.app != 0 || c.protocol.master != 0) ? "guess"
                                                                               : "none")
        .field("risks", NdpiClassifier::risk_names(c.risks))
        .field("packets", f.packets[0] + f.packets[1])
        .field("bytes", f.bytes[0] + f.bytes[1])
        .field("dropped", f.dropped_packets)
        .field("verdict", to_string(f.verdict))
        .field("rule", *f.rule);
    const auto attributes = c.reported_attributes();
    if (!attributes.empty()) {
      JsonLine object;
      for (const auto& [name, value] : attributes) object.field(name, value);
      record.raw("attributes", object.str());
    }
    if (const auto it = messages_.find(&f); it != messages_.end()) {
      record.raw("messages", "[" + it->second.list + "]");
      if (it->second.omitted > 0) record.field("messages_omitted", it->second.omitted);
      messages_.erase(it);
    }
    return record.str();
  }

  const NdpiClassifier& classifier_;
  const FlowRecordSink& on_flow_;
  uint64_t& flows_;
  std::unordered_map<const Flow*, Messages> messages_;
};

ReplayResult replay(const std::string& pcap_path, std::shared_ptr<const policy::Policy> policy,
                    const NdpiClassifier& classifier, EventSink& events, NetmonMetrics& metrics,
                    const FlowRecordSink& on_flow, const ReplayRecords& records, EngineOptions options) {
  LinkType link{};
  const PcapHandle pcap = open_capture(pcap_path, link);
  ReplaySink sink(records.forwarded_pcap);
  Engine engine(std::move(policy), classifier, sink, events, metrics, link, options);
  const auto inspected = record_inspected(engine, records.inspected_path);
  ReplayResult result;
  FlowRecorder recorder(classifier, on_flow, result.flows);
  recorder.attach(engine);

  const auto started = std::chrono::steady_clock::now();
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int rc = 0;
  while ((rc = pcap_next_ex(pcap.get(), &header, &data)) == 1) {
    const uint64_t us = uint64_t(header->ts.tv_sec) * 1000000 + uint64_t(header->ts.tv_usec);
    sink.now_us = us;
    engine.on_tick(us);
    engine.on_frame(std::nullopt, data, header->caplen, header->len, us);
    ++result.packets;
  }
  // A capture cut off mid-record still yields what came before; the error is reported.
  const std::string read_error = rc == PCAP_ERROR ? pcap_geterr(pcap.get()) : "";
  engine.finish();
  metrics.publish();
  result.checksum_drops = engine.checksum_drops();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!read_error.empty())
    throw std::runtime_error(pcap_path + ": read error after " + std::to_string(result.packets) +
                             " packets: " + read_error);
  return result;
}

}  // namespace

ReplayResult replay_capture(const std::string& pcap_path, std::shared_ptr<const policy::Policy> policy,
                            const NdpiClassifier& classifier, EventSink& events, NetmonMetrics& metrics,
                            const FlowRecordSink& on_flow, EngineOptions options) {
  return replay(pcap_path, std::move(policy), classifier, events, metrics, on_flow, {}, options);
}

ReplayResult replay_capture(const std::string& pcap_path, std::shared_ptr<const policy::Policy> policy,
                            const NdpiClassifier& classifier, EventSink& events, NetmonMetrics& metrics,
                            const ReplayRecords& records, EngineOptions options) {
  if (records.flows_path.empty())
    return replay(pcap_path, std::move(policy), classifier, events, metrics, FlowRecordSink{}, records, options);
  JsonLinesWriter flows_out(records.flows_path, JsonLinesWriter::Mode::Replace);
  return replay(pcap_path, std::move(policy), classifier, events, metrics,
                [&](const std::string& record) { flows_out.write_line(record); }, records, options);
}

}  // namespace vitrine::netmon
