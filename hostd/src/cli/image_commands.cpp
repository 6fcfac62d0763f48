// `vitrine image` (the cabinet's disk: golden base, overlay, snapshots, with no hostd needed)
// and `vitrine cabinet` (a cabinet description checked, and the libvirt domain it becomes).
#include <iostream>
#include <memory>
#include <optional>

#include "commands.h"
#include "vitrine/hostd/cabinet.h"
#include "vitrine/hostd/domain_xml.h"
#include "vitrine/images/image_store.h"

namespace vitrine::cli {

namespace {

struct ImageOptions {
  std::string store, source, sha256, name;
};

// Runs one operation on the store, turning its errors into exit codes.
int on_store(const ImageOptions& o, const std::function<int(images::ImageStore&)>& operation) {
  try {
    images::ImageStore store(o.store);
    return operation(store);
  } catch (const images::ImageError& e) {
    std::cerr << "vitrine: " << e.what() << "\n";
    return kExitRefused;
  } catch (const std::exception& e) {
    std::cerr << "vitrine: " << e.what() << "\n";
    return kExitFailure;
  }
}

int import_image(const ImageOptions& o, images::ImageStore& store) {
  const auto m = store.import(o.source, o.sha256.empty() ? std::nullopt : std::optional(o.sha256));
  std::cout << "imported " << m.source << " (" << m.source_format << ", " << m.virtual_size << " bytes)\n  golden  "
            << store.golden().string() << "  sha256 " << m.golden_sha256 << "\n  overlay " << store.overlay().string()
            << "\n";
  return 0;
}

int verify_image(images::ImageStore& store) {
  if (!store.verify()) {
    std::cerr << store.golden().string() << ": sha256 differs from the manifest: the golden base was changed\n";
    return kExitRefused;
  }
  std::cout << store.golden().string() << ": sha256 matches the manifest\n";
  return 0;
}

}  // namespace

void add_image_commands(CLI::App& app, Action& action) {
  auto o = std::make_shared<ImageOptions>();
  auto* image = app.add_subcommand("image", "The cabinet's disk: golden base, overlay, snapshots");
  image->require_subcommand(1);
  const auto on = [&action, o](CLI::App* cmd, std::function<int(images::ImageStore&)> operation) {
    cmd->add_option("--store", o->store, "The cabinet's image folder")->required();
    cmd->callback([&action, o, operation] { action = [o, operation] { return on_store(*o, operation); }; });
  };
  auto* import = image->add_subcommand("import", "Import the old PC's disk as the golden base");
  import->add_option("source", o->source, "raw, VMDK, VHD or qcow2 image")->required();
  import->add_option("--sha256", o->sha256, "sha256 of the source as recorded when it was imaged");
  on(import, [o](images::ImageStore& s) { return import_image(*o, s); });
  on(image->add_subcommand("verify", "Check the golden base against its manifest"), verify_image);
  on(image->add_subcommand("reset", "Discard the overlay: back to the golden base"), [](images::ImageStore& s) {
    s.reset();
    std::cout << "overlay reset: the guest starts from the golden base\n";
    return 0;
  });
  auto* snapshot = image->add_subcommand("snapshot", "Snapshots of the overlay (guest stopped)");
  snapshot->require_subcommand(1);
  const auto named = [&](const char* name, const char* what, void (images::ImageStore::*op)(const std::string&)) {
    auto* cmd = snapshot->add_subcommand(name, what);
    cmd->add_option("name", o->name, "Snapshot name")->required();
    on(cmd, [o, op](images::ImageStore& s) {
      (s.*op)(o->name);
      return 0;
    });
  };
  named("create", "Take a snapshot", &images::ImageStore::snapshot_create);
  named("revert", "Go back to a snapshot", &images::ImageStore::snapshot_revert);
  named("delete", "Delete a snapshot", &images::ImageStore::snapshot_delete);
  on(snapshot->add_subcommand("list", "List snapshots"), [](images::ImageStore& s) {
    for (const auto& snap : s.snapshot_list()) std::cout << snap.name << "\t" << snap.date << "\n";
    return 0;
  });
}

void add_cabinet_commands(CLI::App& app, Action& action) {
  auto file = std::make_shared<std::string>();
  auto* cabinet = app.add_subcommand("cabinet", "Cabinet descriptions (cabinet.yaml)");
  cabinet->require_subcommand(1);
  const auto on = [&action, file](CLI::App* cmd, bool print_xml) {
    cmd->add_option("file", *file, "cabinet.yaml")->required();
    cmd->callback([&action, file, print_xml] {
      action = [file, print_xml] {
        try {
          const auto c = hostd::load_cabinet_file(*file);
          if (print_xml) std::cout << hostd::domain_xml(c, c.image_store + "/overlay.qcow2");
          else
            std::cout << *file << ": ok: cabinet '" << c.name << "', NIC " << c.mac.str() << " on tap " << c.tap
                      << " behind netmon to " << c.uplink << "\n";
          return 0;
        } catch (const hostd::CabinetError& e) {
          std::cerr << e.what() << "\n";
          return kExitRefused;
        }
      };
    });
  };
  on(cabinet->add_subcommand("check", "Validate a cabinet description"), false);
  on(cabinet->add_subcommand("domain-xml", "Print the libvirt domain it becomes"), true);
}

}  // namespace vitrine::cli
