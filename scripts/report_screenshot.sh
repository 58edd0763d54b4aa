#!/usr/bin/env bash
# Regenerates docs/report.png: the report of a default `twofold demo` (48x48, about
# 25 s on two cores) as headless Chromium renders it, the whole page.
#   scripts/report_screenshot.sh [BUILD_DIR (default: build)]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome) ||
  { echo "needs chromium (apt-get install chromium)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/twofold" demo --backend cpu --out "$work/out"
chrome=("$browser" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars
        --user-data-dir="$work/profile" --virtual-time-budget=10000)
width=1200
# First pass: the page's height at this width, written into the DOM by a probe script.
sed 's#</body>#<script>addEventListener("load", () => { const p = document.createElement("p"); p.textContent = "HEIGHT " + document.documentElement.scrollHeight + " END"; document.body.appendChild(p); });</script></body>#' \
  "$work/out/report.html" >"$work/out/probe.html"
height=$("${chrome[@]}" --window-size=$width,1000 --dump-dom "file://$work/out/probe.html" 2>/dev/null |
         grep -o 'HEIGHT [0-9]* END' | awk '{print $2}')
[ -n "$height" ] || { echo "could not measure the page height" >&2; exit 3; }
"${chrome[@]}" --window-size=$width,"$height" --screenshot="$root/docs/report.png" \
  "file://$work/out/report.html" 2>/dev/null
echo "docs/report.png: ${width}x${height}"
