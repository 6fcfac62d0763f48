#!/usr/bin/env bash
# A site's policy repository, checked as its CI should before anything reaches a cabinet:
#   SITE/policies/NAME.yaml                      every policy: `vitrine policy check`
#   SITE/cabinets/NAME.yaml                      every cabinet: `vitrine cabinet check`
#   SITE/captures/POLICY/CASE.pcap + CASE.expect.yaml
#                                                every capture replayed under policies/POLICY.yaml:
#                                                `vitrine policy test` (each flow's verdict and rule)
#   SITE/captures/POLICY/CASE.args               optional: more arguments for that test, such as
#                                                `--checksums ignore` for a capture taken on a host
#                                                that left its checksums to the NIC
# Usage: check-site.sh SITE_DIR [VITRINE]   Exit 0 when all pass; 1 with each failure named.
set -uo pipefail
site="${1:?usage: check-site.sh SITE_DIR [VITRINE]}"
vitrine="${2:-vitrine}"
failed=0 checked=0

fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }

shopt -s nullglob
for policy in "$site"/policies/*.yaml; do
  checked=$((checked + 1))
  "$vitrine" policy check "$policy" >/dev/null || fail "policy check $policy"
done
for cabinet in "$site"/cabinets/*.yaml; do
  checked=$((checked + 1))
  "$vitrine" cabinet check "$cabinet" >/dev/null || fail "cabinet check $cabinet"
done
for pcap in "$site"/captures/*/*.pcap "$site"/captures/*/*.pcapng; do
  checked=$((checked + 1))
  name="$(basename "$(dirname "$pcap")")"
  policy="$site/policies/$name.yaml"
  expect="${pcap%.*}.expect.yaml"
  if [[ ! -f "$policy" ]]; then fail "$pcap: no policy $policy"; continue; fi
  if [[ ! -f "$expect" ]]; then fail "$pcap: no expectation $expect"; continue; fi
  args=()
  if [[ -f "${pcap%.*}.args" ]]; then read -r -a args < "${pcap%.*}.args"; fi
  "$vitrine" policy test "$policy" --pcap "$pcap" --expect "$expect" "${args[@]}" || fail "policy test $policy on $pcap"
done
if ((checked == 0)); then
  echo "FAIL: nothing to check in $site (policies/, cabinets/, captures/)" >&2
  exit 1
fi
echo "check-site: $checked checked, $failed failed"
((failed == 0))
