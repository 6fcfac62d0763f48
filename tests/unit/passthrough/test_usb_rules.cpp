// USB rules on the cabinet's devices: USBGuard's parser and matching, the implicit default,
// the mass-storage rule, and devices whose descriptors lie.
#include <gtest/gtest.h>

#include "../../passthrough/cabinet_devices.h"
#include "fake_catalog.h"
#include "temp_dir.h"
#include "vitrine/common/yaml_reader.h"
#include "vitrine/passthrough/usb_rules.h"
#include "vitrine/policy/load.h"

using namespace vitrine::passthrough;
using namespace vitrine::testing;

namespace {

UsbRuleSet rules(const std::vector<std::string>& texts) {
  std::vector<vitrine::policy::UsbRuleText> in;
  for (size_t i = 0; i < texts.size(); ++i) in.push_back({texts[i], "cabinet.policy.yaml", static_cast<int>(10 + i), 5});
  return UsbRuleSet::compile(in);
}

const std::vector<std::string> kCabinet = {
    R"(allow id 05e0:1200 serial "S19042" with-interface 03:01:01 label "scanner")",
    R"(allow id 147e:1002 with-interface equals { ff:00:00 } label "fingerprint")",
    R"(allow id 0a5f:00d3 with-interface 07:01:02)",
};

TEST(UsbDevice, DescribedAsUsbGuardDescribesIt) {
  const auto d = describe(barcode_scanner());
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.interfaces, (std::vector<std::string>{"03:01:01"}));
  EXPECT_FALSE(d.mass_storage);
  EXPECT_FALSE(d.hash.empty());
  EXPECT_NE(d.summary.find("id 05e0:1200"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("via-port \"1-1\""), std::string::npos) << d.summary;
  EXPECT_EQ(d.summary.find("S19042"), std::string::npos) << "the serial is hidden in summaries: " << d.summary;
  // The hash follows the descriptors: a device that changes them is another device.
  auto other = barcode_scanner();
  other.descriptors[14] ^= 1;  // bcdDevice
  EXPECT_NE(describe(other).hash, d.hash);
  EXPECT_TRUE(describe(keyboard_with_storage()).mass_storage);
}

TEST(UsbDevice, LyingDescriptorsAreRefusedNotParsedBlindly) {
  auto cut = barcode_scanner();
  cut.descriptors.resize(10);
  EXPECT_FALSE(describe(cut).ok);
  auto huge = barcode_scanner();
  huge.descriptors.resize(kMaxDescriptorBytes + 1, 0);
  EXPECT_FALSE(describe(huge).ok);
  auto bad_id = barcode_scanner();
  bad_id.vendor_id = "05e0\n";
  EXPECT_FALSE(describe(bad_id).ok);
  // A configuration that claims more bytes than there are, and a zero-length descriptor.
  for (size_t at : {size_t{20}, size_t{27}}) {
    auto lying = label_printer();
    lying.descriptors[at] = at == 20 ? 0xff : 0;
    const auto d = describe(lying);  // whatever USBGuard makes of it, never a crash
    if (d.ok) {
      EXPECT_FALSE(d.summary.empty());
    }
  }
}

TEST(UsbRules, FirstMatchDecidesAndNothingMatchingIsBlocked) {
  const auto set = rules(kCabinet);
  const auto scanner = set.decide(describe(barcode_scanner()));
  EXPECT_EQ(scanner.target, UsbTarget::Allow);
  EXPECT_EQ(scanner.rule, "scanner");
  EXPECT_EQ(scanner.rule_index, 0);
  EXPECT_EQ(set.decide(describe(fingerprint_reader())).rule, "fingerprint");
  const auto printer = set.decide(describe(label_printer()));
  EXPECT_EQ(printer.target, UsbTarget::Allow);
  EXPECT_EQ(printer.rule, "usb.rules[2]");
  const auto stick = set.decide(describe(usb_stick()));
  EXPECT_EQ(stick.target, UsbTarget::Block);
  EXPECT_EQ(stick.rule, "default");
  EXPECT_EQ(stick.reason, "no rule matched");
  // The scanner's rule asks for its one interface; a device with the same id and serial that
  // also offers storage does not match it (with-interface needs every interface listed).
  EXPECT_EQ(set.decide(describe(keyboard_with_storage())).target, UsbTarget::Block);
  // The serial matters: the same scanner model with another serial is not the cabinet's.
  auto stranger = barcode_scanner();
  stranger.serial = "S00001";
  EXPECT_EQ(set.decide(describe(stranger)).target, UsbTarget::Block);
}

TEST(UsbRules, MassStoragePassesOnlyByIdAndSerial) {
  // A loose rule written for HID devices also matches a keyboard-with-storage...
  const auto loose = rules({R"(allow with-interface one-of { 03:*:* 08:*:* })"});
  const auto badusb = loose.decide(describe(keyboard_with_storage()));
  EXPECT_EQ(badusb.target, UsbTarget::Block);
  EXPECT_EQ(badusb.rule, "usb.rules[0]");
  EXPECT_EQ(badusb.reason, "mass storage, and the rule does not name its id and serial");
  EXPECT_EQ(rules({R"(allow id 0781:* serial "4C530001230705113355")"}).decide(describe(usb_stick())).target,
            UsbTarget::Block)
      << "a vendor wildcard is not the device's id";
  EXPECT_EQ(rules({R"(allow id 0781:5567)"}).decide(describe(usb_stick())).target, UsbTarget::Block);
  const auto named = rules({R"(allow id 0781:5567 serial "4C530001230705113355" label "update-stick")"});
  EXPECT_EQ(named.decide(describe(usb_stick())).target, UsbTarget::Allow);
  // ...and block and reject rules are taken as written.
  EXPECT_EQ(rules({R"(reject with-interface 08:*:*)"}).decide(describe(usb_stick())).target, UsbTarget::Reject);
}

TEST(UsbRules, AnUndescribedDeviceIsBlocked) {
  auto cut = barcode_scanner();
  cut.descriptors.resize(4);
  const auto d = rules({"allow"}).decide(describe(cut));
  EXPECT_EQ(d.target, UsbTarget::Block);
  EXPECT_EQ(d.rule, "default");
  EXPECT_EQ(d.reason.rfind("not described: ", 0), 0u) << d.reason;
}

TEST(UsbRules, RefusedRulesNameTheirPlace) {
  auto error_of = [](const std::string& text) {
    try {
      rules({"allow id 05e0:1200", text});
    } catch (const vitrine::ConfigError& e) {
      EXPECT_EQ(e.line(), 11);
      EXPECT_EQ(e.column(), 5);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(error_of("alow id 05e0:1200").find("a rule starts with allow, block or reject, not 'alow'"), std::string::npos);
  EXPECT_NE(error_of("allow id 05e0").find("usb.rules[1]: not a USBGuard rule"), std::string::npos);
  EXPECT_NE(error_of(R"(allow serial "x)").find("not a USBGuard rule"), std::string::npos);
  EXPECT_NE(error_of(R"(allow id 05e0:1200 if localtime(08:00-17:00))").find("rule conditions"), std::string::npos);
}

}  // namespace

namespace {

TEST(UsbRules, ThePolicysUsbSectionKeepsEachRulesPlaceAndASiteReplacesTheBaselines) {
  const vitrine::testing::FakeCatalog catalog;
  vitrine::testing::TempDir dir;
  dir.write("baseline.yaml", R"(apiVersion: vitrine/v1
name: baseline
defaultAction: deny
usb:
  rules:
    - allow with-interface 03:*:*
)");
  const auto site = dir.write("site.yaml", R"(apiVersion: vitrine/v1
name: site
extends: baseline.yaml
guest: {mac: "52:54:00:77:00:02", ipv4: 10.77.0.2}
usb:
  rules:
    - 'allow id 05e0:1200 serial "S19042" label "scanner"'
    - alow id 1234:5678
)");
  try {
    const auto p = vitrine::policy::load_policy_file(site, catalog);
    ASSERT_EQ(p.usb_rules.size(), 2u) << "the site's section replaces the baseline's";
    UsbRuleSet::compile(p.usb_rules);
    FAIL() << "the misspelt target was accepted";
  } catch (const vitrine::ConfigError& e) {
    EXPECT_EQ(e.source(), site);
    EXPECT_EQ(e.line(), 8);
    EXPECT_EQ(e.column(), 7);
  }
  const auto inherited = dir.write("inherits.yaml", R"(apiVersion: vitrine/v1
name: site
extends: baseline.yaml
guest: {mac: "52:54:00:77:00:02", ipv4: 10.77.0.2}
)");
  const auto p = vitrine::policy::load_policy_file(inherited, catalog);
  ASSERT_EQ(p.usb_rules.size(), 1u);
  EXPECT_EQ(p.usb_rules[0].line, 6);
  EXPECT_EQ(UsbRuleSet::compile(p.usb_rules).decide(describe(barcode_scanner())).target, UsbTarget::Allow);
  const auto empty = dir.write("empty.yaml", R"(apiVersion: vitrine/v1
name: site
guest: {mac: "52:54:00:77:00:02", ipv4: 10.77.0.2}
defaultAction: deny
usb: {rules: [" "]}
)");
  EXPECT_THROW(vitrine::policy::load_policy_file(empty, catalog), vitrine::ConfigError);
}

}  // namespace

namespace {

TEST(UsbRules, PolicyCheckWarnsOfAllowRulesThatMassStorageCannotPass) {
  const auto set = rules({R"(allow id 05e0:1200 serial "S19042" with-interface 03:01:01)",
                          R"(allow with-interface one-of { 03:*:* 08:*:* })", R"(allow id 0781:5567)",
                          R"(allow id 0781:5567 serial "4C530001230705113355")", R"(block with-interface 08:*:*)"});
  const auto w = set.warnings();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].where.line, 11);
  EXPECT_EQ(w[1].where.line, 12);
  EXPECT_NE(w[0].message.find("usb.rules[1] may match mass-storage devices"), std::string::npos) << w[0].message;
}

}  // namespace

namespace {

TEST(UsbRules, NameHashAndPortAttributesMatchAsUsbGuardMatchesThem) {
  const auto scanner = describe(barcode_scanner());
  ASSERT_TRUE(scanner.ok);
  const auto by_name_and_port = rules({R"(allow name "Symbol Bar Code Scanner" via-port "1-1")"});
  EXPECT_EQ(by_name_and_port.decide(scanner).target, UsbTarget::Allow);
  auto moved = barcode_scanner();
  moved.port = "1-3";  // the same scanner in another socket
  EXPECT_EQ(by_name_and_port.decide(describe(moved)).target, UsbTarget::Block);
  // The hash covers the descriptors: it pins this very device model and firmware.
  const auto by_hash = rules({"allow hash \"" + scanner.hash + "\""});
  EXPECT_EQ(by_hash.decide(scanner).target, UsbTarget::Allow);
  EXPECT_EQ(by_hash.decide(describe(label_printer())).target, UsbTarget::Block);
  EXPECT_EQ(rules({R"(allow with-connect-type "hotplug" with-interface 07:*:*)"}).decide(describe(label_printer())).target,
            UsbTarget::Allow);
}

}  // namespace
