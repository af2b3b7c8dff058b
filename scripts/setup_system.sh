#!/usr/bin/env bash
# Installs the Debian packages mdsgap needs (Japanese fonts, LibreOffice, poppler, Tesseract, Chromium).
# As root (CI, a fresh machine) it installs what is missing; otherwise it prints the one command to run.
set -euo pipefail
PACKAGES=(fonts-ipaexfont fonts-ipafont poppler-utils libreoffice-writer-nogui libreoffice-calc-nogui
          tesseract-ocr tesseract-ocr-jpn chromium)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# libreoffice-*-nogui conflicts with the GUI packages: either flavour is fine.
if [[ " ${missing[*]} " == *" libreoffice-writer-nogui "* ]] && command -v soffice >/dev/null; then
  missing=("${missing[@]/libreoffice-writer-nogui}"); missing=("${missing[@]/libreoffice-calc-nogui}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  echo "システムパッケージをインストールします: ${missing[*]}"
  bash -c "$cmd"
else
  echo "次のシステムパッケージが必要です。管理者権限で実行してください:" >&2
  echo "  sudo bash -c '$cmd'" >&2
  exit 1
fi
