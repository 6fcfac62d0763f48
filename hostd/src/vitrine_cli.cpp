// vitrine: the operator's command line. For now it manages a cabinet's disk images and
// checks cabinet descriptions; the control of a running cabinet (status, events, start, stop)
// joins it with hostd.
//
//   vitrine cabinet check FILE
//   vitrine cabinet domain-xml FILE          (the libvirt domain hostd would define)
//   vitrine image import SRC --store DIR [--sha256 HEX]
//   vitrine image verify --store DIR
//   vitrine image reset --store DIR
//   vitrine image snapshot create|revert|delete NAME --store DIR
//   vitrine image snapshot list --store DIR
#include <CLI/CLI.hpp>
#include <iostream>

#include "vitrine/hostd/cabinet.h"
#include "vitrine/hostd/domain_xml.h"
#include "vitrine/images/image_store.h"

namespace {

// Exit codes: 0 done, 1 failure of the machine (a tool missing, a disk error), 2 refused
// (the image or the request is not acceptable; the message says why).
constexpr int kExitFailure = 1;
constexpr int kExitRefused = 2;

}  // namespace

int main(int argc, char** argv) {
  using vitrine::images::ImageError;
  using vitrine::images::ImageStore;

  CLI::App app{"vitrine: keep a cabinet's certified software running on new hardware"};
  app.require_subcommand(1);
  auto* image = app.add_subcommand("image", "The cabinet's disk: golden base, overlay, snapshots");
  image->require_subcommand(1);
  std::string store_dir, source, sha256, name;

  auto* import = image->add_subcommand("import", "Import the old PC's disk as the golden base");
  import->add_option("source", source, "raw, VMDK, VHD or qcow2 image")->required();
  import->add_option("--sha256", sha256, "sha256 of the source as recorded when it was imaged");
  auto* verify = image->add_subcommand("verify", "Check the golden base against its manifest");
  auto* reset = image->add_subcommand("reset", "Discard the overlay: back to the golden base");
  auto* snapshot = image->add_subcommand("snapshot", "Snapshots of the overlay (guest stopped)");
  snapshot->require_subcommand(1);
  auto* snap_create = snapshot->add_subcommand("create", "Take a snapshot");
  auto* snap_revert = snapshot->add_subcommand("revert", "Go back to a snapshot");
  auto* snap_delete = snapshot->add_subcommand("delete", "Delete a snapshot");
  auto* snap_list = snapshot->add_subcommand("list", "List snapshots");
  for (auto* cmd : {snap_create, snap_revert, snap_delete})
    cmd->add_option("name", name, "Snapshot name")->required();
  for (auto* cmd : {import, verify, reset, snap_create, snap_revert, snap_delete, snap_list})
    cmd->add_option("--store", store_dir, "The cabinet's image folder")->required();

  auto* cabinet = app.add_subcommand("cabinet", "Cabinet descriptions (cabinet.yaml)");
  cabinet->require_subcommand(1);
  std::string cabinet_file;
  auto* cab_check = cabinet->add_subcommand("check", "Validate a cabinet description");
  auto* cab_xml = cabinet->add_subcommand("domain-xml", "Print the libvirt domain it becomes");
  for (auto* cmd : {cab_check, cab_xml})
    cmd->add_option("file", cabinet_file, "cabinet.yaml")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitRefused;
  }

  if (*cabinet) {
    try {
      const auto c = vitrine::hostd::load_cabinet_file(cabinet_file);
      if (*cab_check)
        std::cout << cabinet_file << ": ok: cabinet '" << c.name << "', NIC " << c.mac.str()
                  << " on tap " << c.tap << " behind netmon to " << c.uplink << "\n";
      else
        std::cout << vitrine::hostd::domain_xml(c, c.image_store + "/overlay.qcow2");
      return 0;
    } catch (const vitrine::hostd::CabinetError& e) {
      std::cerr << e.what() << "\n";
      return kExitRefused;
    }
  }

  try {
    ImageStore store(store_dir);
    if (*import) {
      const auto m = store.import(source, sha256.empty() ? std::nullopt : std::optional(sha256));
      std::cout << "imported " << m.source << " (" << m.source_format << ", " << m.virtual_size
                << " bytes)\n  golden  " << store.golden().string() << "  sha256 "
                << m.golden_sha256 << "\n  overlay " << store.overlay().string() << "\n";
    } else if (*verify) {
      if (!store.verify()) {
        std::cerr << store.golden().string() << ": sha256 differs from the manifest: the golden "
                  << "base was changed\n";
        return kExitRefused;
      }
      std::cout << store.golden().string() << ": sha256 matches the manifest\n";
    } else if (*reset) {
      store.reset();
      std::cout << "overlay reset: the guest starts from the golden base\n";
    } else if (*snap_create) {
      store.snapshot_create(name);
    } else if (*snap_revert) {
      store.snapshot_revert(name);
    } else if (*snap_delete) {
      store.snapshot_delete(name);
    } else if (*snap_list) {
      for (const auto& s : store.snapshot_list()) std::cout << s.name << "\t" << s.date << "\n";
    }
    return 0;
  } catch (const ImageError& e) {
    std::cerr << "vitrine: " << e.what() << "\n";
    return kExitRefused;
  } catch (const std::exception& e) {
    std::cerr << "vitrine: " << e.what() << "\n";
    return kExitFailure;
  }
}
