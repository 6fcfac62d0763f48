#include "vitrine/hostd/event_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

#include "vitrine/common/clock.h"

namespace vitrine::hostd {

HostdEventLog::HostdEventLog(const std::string& path, std::string cabinet, SyslogForwarder* forward)
    : writer_(path), cabinet_(std::move(cabinet)), forward_(forward) {}

void HostdEventLog::record(const std::string& event, nlohmann::json fields) {
  nlohmann::json j = {{"time", utc_timestamp(wall_clock_us())}, {"event", event}, {"source", "hostd"},
                      {"cabinet", cabinet_}};
  for (auto& [k, v] : fields.items()) j[k] = v;
  if (forward_) forward_->forward(j);
  if (!writer_.write(j)) {
    ++write_failures_;
    spdlog::error("could not write event {} to hostd's event log", event);
  }
}

namespace {

// The last `n` complete lines within the last kEventsTailBytes of the file.
std::vector<std::string> tail_lines(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  const std::streamoff start = std::max<std::streamoff>(0, size - static_cast<std::streamoff>(kEventsTailBytes));
  in.seekg(start);
  std::string text(static_cast<size_t>(size - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  std::vector<std::string> lines;
  size_t begin = 0;
  if (start > 0) begin = text.find('\n') == std::string::npos ? text.size() : text.find('\n') + 1;  // a cut line
  while (begin < text.size()) {
    const size_t end = text.find('\n', begin);
    if (end == std::string::npos) break;  // a line still being written
    if (end > begin) lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
  return lines;
}

}  // namespace

nlohmann::json recent_events(const std::vector<std::pair<std::string, std::string>>& sources, size_t n) {
  n = std::min(n, kMaxEventsAnswered);
  std::vector<nlohmann::json> all;
  for (const auto& [source, path] : sources) {
    for (const auto& line : tail_lines(path, n)) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) j = {{"event", "unreadable_line"}, {"time", ""}};
      j["source"] = source;
      all.push_back(std::move(j));
    }
  }
  const auto time_of = [](const nlohmann::json& j) {
    const auto it = j.find("time");
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::stable_sort(all.begin(), all.end(),
                   [&](const nlohmann::json& a, const nlohmann::json& b) { return time_of(a) < time_of(b); });
  if (all.size() > n) all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(n));
  return all;
}

}  // namespace vitrine::hostd
