#!/usr/bin/env bash
# report.html in a real browser: runs a small `twofold demo`, opens its report in
# headless Chromium and checks that every <img> decoded (naturalWidth > 0), that
# every image is an embedded PNG (no external files) and, as a control, that the
# same check reports a deliberately broken image. Skips (77) without Chromium.
#   report_browser_test.sh TWOFOLD_BINARY
set -euo pipefail
cli="$1"
browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then echo "SKIP: no chromium on PATH"; exit 77; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cli" demo --size 16 --runs 2 --chains 4 --levels 30 --backend cpu --out "$work/out" >"$work/demo.log" 2>&1 ||
  { cat "$work/demo.log"; echo "FAIL: twofold demo failed"; exit 1; }
report="$work/out/report.html"
[ -s "$report" ] || { cat "$work/demo.log"; echo "FAIL: no report.html"; exit 1; }

images=$(grep -o '<img ' "$report" | wc -l)
embedded=$(grep -o '<img src="data:image/png;base64,' "$report" | wc -l)
[ "$images" -ge 8 ] || { echo "FAIL: only $images images in the demo report"; exit 1; }
[ "$images" -eq "$embedded" ] || { echo "FAIL: $((images - embedded)) of $images images are not embedded PNGs"; exit 1; }
if grep -Eq '(src|href)="(https?:|//|file:)' "$report"; then echo "FAIL: the report links outside itself"; exit 1; fi

# Counts, in the load event (which fires only once every image has loaded or failed),
# the images the browser decoded (a natural width > 0); the result lands in
# the DOM. Synchronous on purpose: under load, asynchronous decode() promises could
# still be pending when the virtual-time budget ends and the DOM is dumped. (The probe
# goes through sed on one line: no "&" and no // comments in it.)
probe='<script>window.addEventListener("load", () => {
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.naturalWidth > 0).length;
  const p = document.createElement("p");
  p.id = "image-check";
  p.textContent = "IMAGES " + imgs.length + " DECODED " + ok + " END";
  document.body.appendChild(p);
});</script>'

# prints "IMAGES n DECODED m END" as the browser saw the page $1
browser_count() {
  local page="$1"
  sed "s#</body>#${probe//$'\n'/ }</body>#" "$report_src" >"$page"
  local attempt result=""
  for attempt in 1 2 3; do  # a browser that dies on a busy machine gets two more chances
    result=$(timeout 60 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
      --user-data-dir="$work/profile$attempt" --virtual-time-budget=10000 --dump-dom "file://$page" 2>/dev/null |
      grep -o 'IMAGES [0-9]* DECODED [0-9]* END' || true)
    [ -n "$result" ] && break
  done
  echo "$result"
}

report_src="$report"
seen=$(browser_count "$work/out/check.html")
echo "report: $images images; browser: ${seen:-no result}"
[ "$seen" = "IMAGES $images DECODED $images END" ] || { echo "FAIL: not every image loaded in $browser"; exit 1; }

# Control: one corrupted image must be counted as broken, or the check proves nothing.
sed '0,/base64,iVBORw0KGgo/s//base64,AAAAbroken/' "$report" >"$work/out/broken.html"
report_src="$work/out/broken.html"
seen=$(browser_count "$work/out/check_broken.html")
echo "control with one broken image: ${seen:-no result}"
[ "$seen" = "IMAGES $images DECODED $((images - 1)) END" ] || { echo "FAIL: the check did not catch a broken image"; exit 1; }
echo "PASS"
