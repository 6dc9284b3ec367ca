#!/usr/bin/env bash
# Screenshots of the rendered HTML book in headless Chromium, to look at it as a reader would:
# the preface, a page of Part II and Part III's page, whose first screen is mostly equations.
# Chromium resolves no host but 127.0.0.1, so each page shows what a reader without internet
# sees (the equations are MathML, typeset by the browser). Needs Chromium (Debian: apt-get
# install chromium); writes build/screenshots/*.png. Run `make report` first.
set -euo pipefail
cd "$(dirname "$0")/.."
browser="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"
[ -n "$browser" ] || { echo "no Chromium found: apt-get install chromium, or set CHROMIUM=" >&2; exit 2; }
[ -f _book/index.html ] || { echo "no _book/index.html: run make report first" >&2; exit 2; }
out=build/screenshots
mkdir -p "$out"
port=8765
python3 -m http.server "$port" --bind 127.0.0.1 --directory _book >/dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
sleep 1
profile=$(mktemp -d)
for page in index chapters/02-anomaly-detection chapters/03-self-attention; do
  "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
    --user-data-dir="$profile" --hide-scrollbars --window-size=1280,1600 \
    --virtual-time-budget=8000 \
    --screenshot="$out/$(basename "$page").png" "http://127.0.0.1:$port/$page.html" 2>/dev/null
  echo "wrote $out/$(basename "$page").png"
done
rm -rf "$profile"
