#include "vitrine/hostd/netmon_counters.h"

#include <curl/curl.h>

#include <cstdlib>
#include <sstream>

namespace vitrine::hostd {

namespace {

// The value of label `key` in `{a="x",key="y"}`, or "" (netmon's label values hold no quotes).
std::string label_value(const std::string& labels, const std::string& key) {
  const std::string needle = key + "=\"";
  size_t at = labels.find(needle);
  while (at != std::string::npos && at != 0 && labels[at - 1] != '{' && labels[at - 1] != ',')
    at = labels.find(needle, at + 1);
  if (at == std::string::npos) return "";
  const size_t begin = at + needle.size();
  const size_t end = labels.find('"', begin);
  return end == std::string::npos ? "" : labels.substr(begin, end - begin);
}

size_t append_body(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * n > kMaxNetmonScrapeBytes) return 0;  // makes curl fail the transfer
  body->append(data, size * n);
  return size * n;
}

}  // namespace

nlohmann::json summarize_netmon_metrics(const std::string& exposition) {
  struct Family {
    const char* metric;
    const char* key;
  };
  static const Family by_verdict[] = {{"vitrine_netmon_packets_total", "packets"},
                                      {"vitrine_netmon_bytes_total", "bytes"},
                                      {"vitrine_netmon_flows_total", "flows"}};
  nlohmann::json out = {{"packets", nlohmann::json::object()}, {"bytes", nlohmann::json::object()},
                        {"flows", nlohmann::json::object()}, {"events_suppressed", 0}};
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t name_end = line.find_first_of("{ ");
    const size_t value_at = line.rfind(' ');
    if (name_end == std::string::npos || value_at == std::string::npos || value_at < name_end) continue;
    const std::string name = line.substr(0, name_end);
    const std::string labels = line.substr(name_end, value_at - name_end);
    char* end = nullptr;
    const double value = std::strtod(line.c_str() + value_at + 1, &end);
    if (end == line.c_str() + value_at + 1) continue;
    if (name == "vitrine_netmon_events_suppressed_total") {
      out["events_suppressed"] = out["events_suppressed"].get<double>() + value;
      continue;
    }
    for (const auto& f : by_verdict) {
      if (name != f.metric) continue;
      const std::string verdict = label_value(labels, "verdict");
      if (verdict.empty()) continue;
      auto& slot = out[f.key][verdict];
      slot = (slot.is_number() ? slot.get<double>() : 0.0) + value;
    }
  }
  return out;
}

nlohmann::json netmon_counters(const std::string& address) {
  CURL* curl = curl_easy_init();
  if (!curl) return {{"reachable", false}, {"error", "curl_easy_init failed"}};
  const std::string url = "http://" + address + "/metrics";
  std::string body;
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, kNetmonScrapeTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");  // a proxy in the environment must not be asked
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return {{"reachable", false}, {"error", error[0] ? error : curl_easy_strerror(rc)}};
  nlohmann::json out = summarize_netmon_metrics(body);
  out["reachable"] = true;
  return out;
}

}  // namespace vitrine::hostd
