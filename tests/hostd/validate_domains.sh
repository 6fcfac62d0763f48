#!/usr/bin/env bash
# Every shipped cabinet description becomes a domain that libvirt's own schema accepts.
# Usage: validate_domains.sh VITRINE_BINARY CABINET.yaml...
set -euo pipefail
vitrine="$1"; shift
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
for cabinet in "$@"; do
  "$vitrine" cabinet domain-xml "$cabinet" > "$tmp/domain.xml"
  virt-xml-validate "$tmp/domain.xml" domain
done
