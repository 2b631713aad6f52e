#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install what vidsearch needs.
# Idempotent: a second run only checks. Debian packages (espeak-ng narrates the test footage,
# opencv-doc ships real photos and clips, chromium is the browser the end-to-end test drives)
# are installed when missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VIDSEARCH_VENV:-.venv}
PY=${PYTHON:-python3}
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"

need_apt=()
command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)
# Real photos and footage for the development set and the tests (Debian's OpenCV examples).
[ -d /usr/share/doc/opencv-doc/examples/data ] || need_apt+=(opencv-doc)
# Debian's Chromium for the web UI's browser test (Playwright drives it; it never downloads one).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# What the installers say goes to a log, shown only when they fail: a new user should read what
# vidsearch does, not setuptools' banners or debconf's notes.
mkdir -p "$VENV"
LOG="$VENV/bootstrap.log"
quietly() {
  if ! "$@" >>"$LOG" 2>&1; then
    echo "bootstrap: failed: $* (the last lines of $LOG follow)" >&2
    tail -n 30 "$LOG" >&2
    exit 1
  fi
}
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian packages: ${need_apt[*]}"
    quietly apt-get update -qq
    DEBIAN_FRONTEND=noninteractive quietly apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  else
    echo "bootstrap: warning: missing ${need_apt[*]} (the test footage and the browser test need them)" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "bootstrap: creating $VENV"
  quietly "$PY" -m venv "$VENV"
fi
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing vidsearch and its dependencies into $VENV (first run takes a few minutes; log: $LOG)"
  quietly "$VENV/bin/python" -m pip install -q --upgrade pip
  # torch first and pinned, so that nothing pulls a multi-GB CUDA build.
  quietly "$VENV/bin/python" -m pip install -q "torch==2.13.0"
  quietly "$VENV/bin/python" -m pip install -q -e ".[dev,media]"
  # The OCR models (indexer/screen_text.py) without their declared opencv-python, which would
  # clash with opencv-python-headless; what they import at run time is in pyproject.toml.
  quietly "$VENV/bin/python" -m pip install -q --no-deps "rapidocr-onnxruntime==1.4.4"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
