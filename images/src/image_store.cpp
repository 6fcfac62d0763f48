#include "vitrine/images/image_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "vitrine/common/sha256.h"
#include "vitrine/common/subprocess.h"

namespace vitrine::images {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::vector<std::string> kFormats = {"raw", "vmdk", "vpc", "qcow2"};
// A disk is a whole number of 512-byte sectors; a raw image that is not was cut short.
constexpr uint64_t kSectorBytes = 512;
// qemu-img check: 0 clean, 3 leaked clusters only (harmless: space, not data), 63 the format
// has no checker (the conversion then is the check).
constexpr int kCheckClean = 0, kCheckLeaksOnly = 3, kCheckUnsupported = 63;

// qemu-img's complaint, cut to its first lines: a damaged image can produce one per cluster.
std::string qemu_img_error(const ProcessResult& r) {
  constexpr int kLinesKept = 3;
  std::istringstream in(r.err.empty() ? r.out : r.err);
  std::string line, kept;
  int lines = 0;
  while (std::getline(in, line))
    if (!line.empty() && ++lines <= kLinesKept) kept += (kept.empty() ? "" : "; ") + line;
  if (lines > kLinesKept) kept += " (and " + std::to_string(lines - kLinesKept) + " more lines)";
  return kept;
}

ProcessResult qemu_img(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"qemu-img"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv);
}

json qemu_img_json(const std::vector<std::string>& args, const std::string& what) {
  const ProcessResult r = qemu_img(args);
  if (r.exit_code != 0) throw ImageError(what + ": " + qemu_img_error(r));
  try {
    return json::parse(r.out);
  } catch (const json::exception& e) {
    throw ImageError(what + ": unreadable answer from qemu-img: " + e.what());
  }
}

void fsync_path(const fs::path& p) {
  const int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ImageError("cannot open " + p.string() + ": " + std::strerror(errno));
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) throw ImageError("cannot sync " + p.string() + ": " + std::strerror(errno));
}

void write_file_durably(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw ImageError("cannot write " + tmp.string());
  }
  fsync_path(tmp);
  fs::rename(tmp, path);
}

std::string now_rfc3339() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Removes, on destruction, every path it was given, unless dismissed: an import that fails
// at any step leaves nothing of itself in the store.
class Cleanup {
 public:
  void add(const fs::path& p) { paths_.push_back(p); }
  void dismiss() { paths_.clear(); }
  ~Cleanup() {
    std::error_code ec;
    for (auto p = paths_.rbegin(); p != paths_.rend(); ++p) fs::remove(*p, ec);  // newest first
  }

 private:
  std::vector<fs::path> paths_;
};

// Snapshot names reach qemu-img as arguments: keep them to a plain, bounded alphabet.
constexpr size_t kMaxSnapshotName = 64;

void check_snapshot_name(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= kMaxSnapshotName &&
                  std::all_of(name.begin(), name.end(), [](unsigned char c) {
                    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
                  });
  if (!ok) throw ImageError("snapshot name '" + name + "': use 1 to 64 of A-Z a-z 0-9 . _ -");
}

// Refuses an image whose header names other files: a backing file, an external data file, or
// VMDK extents elsewhere. A crafted image could otherwise make the import read any host file.
void refuse_references(const json& info, const fs::path& source) {
  if (info.contains("backing-filename") || info.contains("full-backing-filename"))
    throw ImageError(source.string() + ": the image has a backing file (" +
                     info.value("backing-filename", std::string("?")) +
                     "): import the flattened disk instead");
  const json data = info.value("format-specific", json::object()).value("data", json::object());
  if (data.contains("data-file"))
    throw ImageError(source.string() + ": the image keeps its data in another file");
  if (data.contains("extents")) {
    const fs::path self = fs::canonical(source);
    for (const auto& extent : data["extents"]) {
      const fs::path file = extent.value("filename", std::string());
      std::error_code ec;
      if (fs::canonical(file, ec) != self)
        throw ImageError(source.string() + ": the VMDK names another file as an extent (" +
                         file.string() + "): import a single-file VMDK");
    }
  }
}

void check_integrity(const fs::path& source, const std::string& format) {
  if (format == "raw") {
    if (fs::file_size(source) % kSectorBytes != 0)
      throw ImageError(source.string() + ": raw image of " + std::to_string(fs::file_size(source)) +
                       " bytes is not a whole number of 512-byte sectors: it looks truncated");
    return;
  }
  const ProcessResult r = qemu_img({"check", "-f", format, "--output=json", source.string()});
  if (r.exit_code != kCheckClean && r.exit_code != kCheckLeaksOnly && r.exit_code != kCheckUnsupported)
    throw ImageError(source.string() + ": the " + format + " image is damaged: " + qemu_img_error(r));
  if (r.exit_code == kCheckUnsupported) return;
  try {
    const json check = json::parse(r.out);
    // qemu-img reads clusters past the end of a cut qcow2 as zeros without complaint; the
    // offset where the image should end tells that it was cut.
    if (check.contains("image-end-offset") &&
        check["image-end-offset"].get<uint64_t>() > fs::file_size(source))
      throw ImageError(source.string() + ": the image ends at byte " +
                       std::to_string(fs::file_size(source)) + " but its own tables reach byte " +
                       std::to_string(check["image-end-offset"].get<uint64_t>()) +
                       ": it is truncated");
  } catch (const json::exception&) {
    // No JSON to read: the exit code above was the verdict.
  }
}

}  // namespace

std::string sha256_file(const fs::path& path) {
  try {
    return vitrine::sha256_file(path);
  } catch (const std::runtime_error& e) {
    throw ImageError(e.what());
  }
}

ImageStore::ImageStore(fs::path dir) : dir_(std::move(dir)) {}

Manifest ImageStore::import(const fs::path& source,
                            const std::optional<std::string>& expected_sha256) {
  if (!fs::is_regular_file(source)) throw ImageError(source.string() + ": not a readable file");
  if (fs::exists(golden()) || fs::exists(manifest_path()))
    throw ImageError(dir_.string() + " already holds a golden image: import into a new store");
  Cleanup cleanup;
  if (!fs::exists(dir_)) {
    fs::create_directories(dir_);
    cleanup.add(dir_);  // removed last, once empty
  }

  const json info = qemu_img_json({"info", "--output=json", source.string()},
                                   source.string() + ": cannot read the image");
  const std::string format = info.value("format", std::string());
  if (std::find(kFormats.begin(), kFormats.end(), format) == kFormats.end())
    throw ImageError(source.string() + ": format '" + format +
                     "' is not one of raw, vmdk, vpc (VHD), qcow2");
  refuse_references(info, source);
  check_integrity(source, format);

  Manifest m;
  m.source = fs::absolute(source).string();
  m.source_format = format;
  m.virtual_size = info.value("virtual-size", uint64_t{0});
  m.source_sha256 = sha256_file(source);
  if (expected_sha256 && *expected_sha256 != m.source_sha256)
    throw ImageError(source.string() + ": sha256 is " + m.source_sha256 + ", expected " +
                     *expected_sha256 + ": the copy differs from the original");

  const fs::path tmp = dir_ / ".golden.qcow2.tmp";
  cleanup.add(tmp);
  const ProcessResult conv =
      qemu_img({"convert", "-f", format, "-O", "qcow2", source.string(), tmp.string()});
  if (conv.exit_code != 0)
    throw ImageError(source.string() + ": conversion failed: " + qemu_img_error(conv));
  fsync_path(tmp);
  m.golden_sha256 = sha256_file(tmp);
  m.imported_at = now_rfc3339();
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::rename(tmp, golden());
  cleanup.add(golden());

  const json manifest = {{"source", m.source},           {"source_format", m.source_format},
                         {"source_sha256", m.source_sha256}, {"virtual_size", m.virtual_size},
                         {"golden", "golden.qcow2"},    {"golden_sha256", m.golden_sha256},
                         {"imported_at", m.imported_at}};
  write_file_durably(manifest_path(), manifest.dump(2) + "\n");
  cleanup.add(manifest_path());
  fs::permissions(manifest_path(), fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  create_overlay(overlay());
  fsync_path(dir_);
  cleanup.dismiss();
  return m;
}

Manifest ImageStore::manifest() const {
  require_imported();
  std::ifstream in(manifest_path());
  try {
    const json j = json::parse(in);
    Manifest m;
    m.source = j.at("source");
    m.source_format = j.at("source_format");
    m.source_sha256 = j.at("source_sha256");
    m.virtual_size = j.at("virtual_size");
    m.golden_sha256 = j.at("golden_sha256");
    m.imported_at = j.at("imported_at");
    return m;
  } catch (const json::exception& e) {
    throw ImageError(manifest_path().string() + ": unreadable manifest: " + e.what());
  }
}

bool ImageStore::verify() const { return sha256_file(golden()) == manifest().golden_sha256; }

void ImageStore::create_overlay(const fs::path& path) const {
  const fs::path tmp = path.string() + ".tmp";
  Cleanup cleanup;
  cleanup.add(tmp);
  // The backing file is named relative to the overlay, so the store can be moved whole.
  const ProcessResult r = qemu_img({"create", "-q", "-f", "qcow2", "-b", "golden.qcow2", "-F",
                                    "qcow2", tmp.string()});
  if (r.exit_code != 0) throw ImageError("cannot create the overlay: " + qemu_img_error(r));
  fsync_path(tmp);
  fs::rename(tmp, path);
  cleanup.dismiss();
}

void ImageStore::reset() {
  require_imported();
  create_overlay(overlay());
  fsync_path(dir_);
}

void ImageStore::snapshot_create(const std::string& name) {
  require_imported();
  check_snapshot_name(name);
  for (const auto& s : snapshot_list())
    if (s.name == name) throw ImageError("snapshot '" + name + "' exists already");
  const ProcessResult r = qemu_img({"snapshot", "-c", name, overlay().string()});
  if (r.exit_code != 0) throw ImageError("snapshot '" + name + "': " + qemu_img_error(r));
}

std::vector<Snapshot> ImageStore::snapshot_list() const {
  require_imported();
  // -U: read without the lock a running QEMU holds. Only QEMU's own internal snapshots would
  // change the table under it, and vitrine takes none while the guest runs.
  const json info = qemu_img_json({"info", "-U", "--output=json", "-f", "qcow2", overlay().string()},
                                  "cannot read the overlay");
  std::vector<Snapshot> out;
  for (const auto& s : info.value("snapshots", json::array())) {
    const std::time_t t = s.value("date-sec", 0);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    out.push_back({s.value("name", std::string()), buf});
  }
  return out;
}

void ImageStore::snapshot_revert(const std::string& name) {
  require_imported();
  check_snapshot_name(name);
  const ProcessResult r = qemu_img({"snapshot", "-a", name, overlay().string()});
  if (r.exit_code != 0) throw ImageError("revert to '" + name + "': " + qemu_img_error(r));
}

void ImageStore::snapshot_delete(const std::string& name) {
  require_imported();
  check_snapshot_name(name);
  const ProcessResult r = qemu_img({"snapshot", "-d", name, overlay().string()});
  if (r.exit_code != 0) throw ImageError("delete '" + name + "': " + qemu_img_error(r));
}

void ImageStore::require_imported() const {
  if (!fs::exists(golden()) || !fs::exists(manifest_path()))
    throw ImageError(dir_.string() + ": no golden image here (run `vitrine image import` first)");
}

}  // namespace vitrine::images
