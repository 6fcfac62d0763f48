#include "vitrine/netmon/classifier.h"

#include "vitrine/netmon/ndpi_attributes.h"

#include <strings.h>

#include <cstring>
#include <stdexcept>

extern "C" {
#include <ndpi/ndpi_api.h>
}

namespace vitrine::netmon {

// nDPI 4.2 (API 8668) takes five arguments here; later releases add an input-info argument.
#if NDPI_API_VERSION >= 9000
#define VITRINE_NDPI_PROCESS(mod, flow, pkt, len, ms) \
  ndpi_detection_process_packet(mod, flow, pkt, len, ms, nullptr)
#else
#define VITRINE_NDPI_PROCESS(mod, flow, pkt, len, ms) \
  ndpi_detection_process_packet(mod, flow, pkt, len, ms)
#endif

void NdpiFlowDeleter::operator()(ndpi_flow_struct* flow) const { ndpi_free_flow(flow); }

NdpiClassifier::NdpiClassifier() {
  module_ = ndpi_init_detection_module(ndpi_no_prefs);
  if (module_ == nullptr) throw std::runtime_error("nDPI: cannot initialise a detection module");
  NDPI_PROTOCOL_BITMASK all;
  NDPI_BITMASK_SET_ALL(all);
  ndpi_set_protocol_detection_bitmask2(module_, &all);
  ndpi_finalize_initialization(module_);
}

NdpiClassifier::~NdpiClassifier() { ndpi_exit_detection_module(module_); }

namespace {
// Vitrine's own protocols, named as policies write them.
const std::pair<uint16_t, const char*> kOwnProtocols[] = {{kProtocolHl7, "HL7"}, {kProtocolDicom, "DICOM"}};

const char* own_protocol_name(uint16_t id) {
  for (const auto& [own, name] : kOwnProtocols)
    if (own == id) return name;
  return nullptr;
}
}  // namespace

std::optional<uint16_t> NdpiClassifier::protocol_id(std::string_view name) const {
  const std::string wanted(name);
  for (const auto& [id, own] : kOwnProtocols)
    if (strcasecmp(own, wanted.c_str()) == 0) return id;
  const uint32_t count = ndpi_get_num_supported_protocols(module_);
  for (uint32_t id = 0; id < count; ++id) {
    const char* known = ndpi_get_proto_name(module_, static_cast<uint16_t>(id));
    if (known != nullptr && strcasecmp(known, wanted.c_str()) == 0)
      return static_cast<uint16_t>(id);
  }
  return std::nullopt;
}

std::vector<std::string> NdpiClassifier::protocol_names() const {
  std::vector<std::string> names;
  const uint32_t count = ndpi_get_num_supported_protocols(module_);
  for (uint32_t id = 1; id < count; ++id) {  // 0 is Unknown: never a rule's protocol
    const char* known = ndpi_get_proto_name(module_, static_cast<uint16_t>(id));
    if (known != nullptr) names.emplace_back(known);
  }
  for (const auto& [id, own] : kOwnProtocols) names.emplace_back(own);
  return names;
}

const std::vector<policy::Attr>& NdpiClassifier::attributes() const { return declared_attributes(); }

namespace {
void copy_result(Classification& c, const ndpi_protocol& p) {
  if (c.provisional && p.app_protocol == NDPI_PROTOCOL_UNKNOWN && p.master_protocol == NDPI_PROTOCOL_UNKNOWN)
    return;  // nDPI has not decided yet: the inspector's name stands
  c.protocol.master = p.master_protocol;
  c.protocol.app = p.app_protocol;
}

// A bounded copy of a C string field of nDPI's flow state (which is packet-derived).
std::string field(const char* text, size_t max) {
  if (text == nullptr) return "";
  size_t n = 0;
  while (n < max && text[n] != '\0') ++n;
  return std::string(text, n);
}

// The best TLS version the client offers: its hello's version, or 1.3 when its
// supported_versions extension (which nDPI keeps as text) lists it. The server's choice is
// read by the TLS inspector (inspectors/tls), since nDPI 4.2 keeps it only when it is 1.3.
std::string client_tls_version(const ndpi_flow_struct& f) {
  const auto& tls = f.protos.tls_quic;
  if (tls.tls_supported_versions != nullptr && std::strstr(tls.tls_supported_versions, "TLSv1.3") != nullptr)
    return "1.3";
  return tls_version_name(tls.ssl_version);
}

// Reads what nDPI found in the flow's messages into the policy's attributes.
void read_attributes(Classification& c) {
  namespace attr = ndpi_attr;
  const ndpi_flow_struct& f = *c.state;
  const std::string host = field(f.host_server_name, sizeof f.host_server_name);
  if (c.names(NDPI_PROTOCOL_DNS)) {
    c.report(&attr::kDnsName, host);
  } else if (c.names(NDPI_PROTOCOL_HTTP)) {
    c.report(&attr::kHttpHost, host);
    if (f.http.method != NDPI_HTTP_METHOD_UNKNOWN)
      c.report(&attr::kHttpMethod, ndpi_http_method2str(f.http.method));
    // nDPI 4.2 keeps the request target after the host name ("host/path").
    std::string url = field(f.http.url, 4096);
    if (!host.empty() && url.compare(0, host.size(), host) == 0) url.erase(0, host.size());
    if (!url.empty() && url.front() != '/') url.insert(url.begin(), '/');
    c.report(&attr::kHttpPath, url);
  } else if (c.names(NDPI_PROTOCOL_TLS)) {
    c.report(&attr::kTlsSni, host);
    if (!c.server_hello_read) c.report(&attr::kTlsVersion, client_tls_version(f));
  }
}
}  // namespace

void NdpiClassifier::process(Classification& c, const uint8_t* l3, uint32_t l3_len,
                             uint64_t time_ms, uint32_t max_packets) const {
  if (c.completed) return;
  if (!c.state) {
    c.state.reset(static_cast<ndpi_flow_struct*>(ndpi_flow_malloc(SIZEOF_FLOW_STRUCT)));
    if (!c.state) throw std::bad_alloc();
    std::memset(c.state.get(), 0, SIZEOF_FLOW_STRUCT);
  }
  ++c.packets;
  // nDPI takes a 16-bit length; IP packets cannot be longer than that anyway.
  const auto len = static_cast<unsigned short>(l3_len > 0xffff ? 0xffff : l3_len);
  const ndpi_protocol p = VITRINE_NDPI_PROCESS(module_, c.state.get(), l3, len, time_ms);
  copy_result(c, p);
  c.risks = c.state->risk;
  read_attributes(c);
  const bool enough_packets = c.packets >= max_packets || c.state->fail_with_unknown;
  // The stopping rule of ndpiReader: stop at the budget, or once the application protocol is
  // known and nDPI wants no further packets (certificates, for instance).
  // Only payload inspection counts for the policy: an address or port match is a guess that
  // a hostile guest can arrange.
  if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN && c.state->confidence == NDPI_CONFIDENCE_DPI)
    c.by_inspection = true;
  if (enough_packets || p.app_protocol != NDPI_PROTOCOL_UNKNOWN) {
    if (!enough_packets && ndpi_extra_dissection_possible(module_, c.state.get())) return;
    give_up(c);
  }
}

void NdpiClassifier::give_up(Classification& c) const {
  if (c.completed) return;
  c.completed = true;
  if (!c.state) return;  // nDPI never saw a packet that mattered: Unknown
  if (c.protocol.app == NDPI_PROTOCOL_UNKNOWN) {
    uint8_t guessed = 0;
    const ndpi_protocol p = ndpi_detection_giveup(module_, c.state.get(), 1, &guessed);
    copy_result(c, p);
    c.risks = c.state->risk;
  }
  read_attributes(c);
  c.state.reset();
}

std::string NdpiClassifier::label(const policy::L7Facts& p) const {
  if (const char* own = own_protocol_name(p.app)) return own;
  ndpi_protocol proto{};
  proto.master_protocol = p.master;
  proto.app_protocol = p.app;
  char buf[64];
  return ndpi_protocol2name(module_, proto, buf, sizeof buf);
}

std::string NdpiClassifier::app_name(const policy::L7Facts& p) const {
  const uint16_t id = p.app != NDPI_PROTOCOL_UNKNOWN ? p.app : p.master;
  if (const char* own = own_protocol_name(id)) return own;
  const char* name = ndpi_get_proto_name(module_, id);
  return name != nullptr ? name : "Unknown";
}

std::optional<uint8_t> NdpiClassifier::risk_bit(std::string_view name) const {
  const std::string wanted(name);
  for (int i = 1; i < NDPI_MAX_RISK && i < 64; ++i)
    if (strcasecmp(ndpi_risk2str(static_cast<ndpi_risk_enum>(i)), wanted.c_str()) == 0) return static_cast<uint8_t>(i);
  return std::nullopt;
}

std::vector<std::string> NdpiClassifier::risk_names() const {
  std::vector<std::string> names;
  for (int i = 1; i < NDPI_MAX_RISK && i < 64; ++i) names.emplace_back(ndpi_risk2str(static_cast<ndpi_risk_enum>(i)));
  return names;
}

std::vector<std::string> NdpiClassifier::risk_names(uint64_t risks) {
  std::vector<std::string> names;
  for (int i = 1; i < NDPI_MAX_RISK && i < 64; ++i)
    if (risks & (uint64_t{1} << i)) names.emplace_back(ndpi_risk2str(static_cast<ndpi_risk_enum>(i)));
  return names;
}

}  // namespace vitrine::netmon
