// nDPI behind a small interface: one detection module per thread (nDPI's module is not
// thread-safe), per-flow state allocated only when a flow first needs it and freed as soon
// as nDPI has nothing more to learn, and the stopping rule of nDPI's own reader so that a
// flow's label here matches ndpiReader's on the same packets.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vitrine/policy/catalog.h"
#include "vitrine/policy/evaluate.h"

struct ndpi_detection_module_struct;
struct ndpi_flow_struct;

namespace vitrine::netmon {

struct NdpiFlowDeleter {
  void operator()(ndpi_flow_struct* flow) const;
};

// nDPI's two ids of a protocol (or one of netmon's own), four bytes in every flow; what the
// policy and the classifier's names take.
struct AppProtocol {
  uint16_t master = 0;  // 0 is Unknown
  uint16_t app = 0;
  operator policy::L7Facts() const {  // NOLINT: used where the facts are asked for
    policy::L7Facts f;
    f.master = master;
    f.app = app;
    return f;
  }
};

// What is known of one flow's application protocol.
struct Classification {
  std::unique_ptr<ndpi_flow_struct, NdpiFlowDeleter> state;  // null until needed, and again once done
  AppProtocol protocol;       // nDPI ids, Unknown (0) until detected
  bool completed = false;     // nDPI has nothing more to learn, or was asked to give up
  // The application protocol was recognised in the payload (not guessed from ports). It can
  // be set before `completed`: nDPI may go on for extra details, but the verdict need not wait.
  bool by_inspection = false;
  uint64_t risks = 0;         // nDPI risk bitmap
  uint32_t packets = 0;       // packets given to nDPI
  // What nDPI or an inspector read of the flow's messages (DNS name, HTTP request, TLS hello,
  // HL7 header...), allocated only once something is reported, and a count that changes
  // whenever any of it does, so that a flow already judged is judged again.
  struct Reported {
    policy::L7Attributes values;
    std::string patient_ref;  // of the message whose attributes these are (inspectors)
  };
  std::unique_ptr<Reported> reported;
  uint32_t attributes_version = 0;
  bool server_hello_read = false;  // TLS: the server's choice of version is in the attributes
  // Named by an inspector ahead of nDPI (Naming::Provisional): nDPI's later name replaces it,
  // its silence does not, and its risks are not final until it is done.
  bool provisional = false;
  // An inspector is reading a message whose attributes are still to come: rules that ask
  // about them wait instead of failing.
  bool attributes_pending = false;

  // Null when nothing was reported.
  const policy::L7Attributes* attributes() const { return reported ? &reported->values : nullptr; }
  void report(policy::Attr a, std::string value) {
    if (reported ? reported->values.get(a) == value : value.empty()) return;
    if (!reported) reported = std::make_unique<Reported>();
    reported->values.set(a, std::move(value));
    ++attributes_version;
  }
  void set_patient_ref(std::string ref) {
    if (!reported && ref.empty()) return;
    if (!reported) reported = std::make_unique<Reported>();
    reported->patient_ref = std::move(ref);
  }
  std::string patient_ref() const { return reported ? reported->patient_ref : std::string(); }
  std::vector<std::pair<std::string, std::string>> reported_attributes() const {
    return reported ? reported->values.reported() : std::vector<std::pair<std::string, std::string>>{};
  }
  // nDPI's ids: whether the flow is (or runs over) this protocol.
  bool names(uint16_t id) const { return protocol.master == id || protocol.app == id; }
};

// Protocols vitrine's own inspectors recognise and nDPI 4.2 does not know; their ids sit
// above any nDPI id (nDPI's own and custom ones stay below 0x1000).
inline constexpr uint16_t kProtocolHl7 = 0xF001;
inline constexpr uint16_t kProtocolDicom = 0xF002;

class NdpiClassifier : public policy::ProtocolCatalog {
 public:
  NdpiClassifier();
  ~NdpiClassifier() override;
  NdpiClassifier(const NdpiClassifier&) = delete;
  NdpiClassifier& operator=(const NdpiClassifier&) = delete;

  // Names are matched as nDPI spells them, without regard to case ("SMBv1", "dns").
  std::optional<uint16_t> protocol_id(std::string_view name) const override;
  std::vector<std::string> protocol_names() const override;
  std::optional<uint8_t> risk_bit(std::string_view name) const override;
  std::vector<std::string> risk_names() const override;
  // DNS names, HTTP host, method and path, TLS SNI and version (what nDPI reads:
  // ndpi_attributes.h), and what netmon's own inspectors declare (inspectors/attributes.cpp).
  const std::vector<policy::Attr>& attributes() const override;

  // One IP packet of the flow (l3 points at the IP header). Allocates the flow's nDPI state on
  // first use. `max_packets` is the flow's budget: at that count nDPI is asked to give up.
  void process(Classification& c, const uint8_t* l3, uint32_t l3_len, uint64_t time_ms,
               uint32_t max_packets) const;

  // Ends classification now (flow end, or a verdict that makes the rest moot): a flow still
  // undecided gets nDPI's give-up answer, which may be a guess from the ports.
  void give_up(Classification& c) const;

  // "Master.App" as ndpi_protocol2name writes it, e.g. "NetBIOS.SMBv1", "DNS", "Unknown".
  std::string label(const policy::L7Facts& p) const;
  // The application protocol's own name, e.g. "SMBv1" (a bounded set: metric label values).
  std::string app_name(const policy::L7Facts& p) const;
  static std::vector<std::string> risk_names(uint64_t risks);
  using policy::ProtocolCatalog::risk_names;

 private:
  ndpi_detection_module_struct* module_;
};

}  // namespace vitrine::netmon
