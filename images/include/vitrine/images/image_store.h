// A cabinet's disk images: a read-only golden base imported once from the old PC's disk, its
// checksum in a manifest, and a writable overlay on top that the guest uses. Snapshots are of
// the overlay; reset throws the overlay away. Nothing here ever opens the golden base for
// writing, and every operation either completes or leaves the store as it was.
//
//   STORE/golden.qcow2   the imported disk, mode 0444
//   STORE/manifest.json  where it came from, its size and sha256, mode 0444
//   STORE/overlay.qcow2  the guest's writable layer, backed by golden.qcow2
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vitrine::images {

class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Manifest {
  std::string source;         // the path imported from
  std::string source_format;  // raw, vmdk, vpc or qcow2
  std::string source_sha256;
  uint64_t virtual_size = 0;  // bytes the guest sees
  std::string golden_sha256;  // of golden.qcow2 as written
  std::string imported_at;    // RFC 3339, UTC
};

struct Snapshot {
  std::string name;
  std::string date;
};

class ImageStore {
 public:
  explicit ImageStore(std::filesystem::path dir);

  // Converts `source` into the golden base and creates the overlay. The format is probed
  // and must be one of raw, vmdk, vpc (VHD) or qcow2; images with backing or external data
  // files are refused (they could point at any file on the host). `expected_sha256`, when
  // given, must match the source: the only way to catch a truncated raw image.
  Manifest import(const std::filesystem::path& source,
                  const std::optional<std::string>& expected_sha256);

  Manifest manifest() const;
  // Recomputes the golden base's sha256; true when it matches the manifest.
  bool verify() const;
  // Replaces the overlay with an empty one: the guest is back to the golden base.
  void reset();

  void snapshot_create(const std::string& name);
  std::vector<Snapshot> snapshot_list() const;
  void snapshot_revert(const std::string& name);
  void snapshot_delete(const std::string& name);

  std::filesystem::path golden() const { return dir_ / "golden.qcow2"; }
  std::filesystem::path overlay() const { return dir_ / "overlay.qcow2"; }
  std::filesystem::path manifest_path() const { return dir_ / "manifest.json"; }

 private:
  void require_imported() const;
  void create_overlay(const std::filesystem::path& path) const;

  std::filesystem::path dir_;
};

// Lower-case hex sha256 of a file's contents. Throws ImageError when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace vitrine::images
