#!/usr/bin/env bash
# Install qcdc-xl as users get it — a wheel, in a fresh virtual environment outside the
# checkout — and run its three commands from an empty temporary folder. This catches what
# an editable install hides: package data (form specs, the sample units lists) left out.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m pip wheel -q --no-deps --disable-pip-version-check -w "$work/dist" "$repo"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check "$work"/dist/qcdc_xl-*.whl

cd "$work"  # nothing of the checkout is reachable from here but the sample returns, by path
mkdir run && cd run
qcdc="$work/venv/bin/qcdc-xl"
"$qcdc" --help >/dev/null
"$qcdc" generate --out bieu_mau
count=$(find bieu_mau -name '*.xlsx' | wc -l)
[ "$count" -eq 110 ] || { echo "generate wrote $count templates, expected 110" >&2; exit 1; }
"$qcdc" aggregate "$repo/samples/nq02_sk5/returns" -o tong_hop.xlsx --json bao_cao.json --feedback phan_hoi
[ -s tong_hop.xlsx ] && [ -s bao_cao.json ] || { echo "aggregate wrote no summary/report" >&2; exit 1; }
"$qcdc" check "$(find bieu_mau -name '*.xlsx' | sort | head -n 1)" --json kiem_tra.json >kiem_tra.txt
[ -s kiem_tra.json ] || { echo "check wrote no report" >&2; exit 1; }
# the second bundled form, by id, with its own bundled units list
# (output kept first: "forms | grep -q" under pipefail fails whenever grep stops reading early)
forms=$("$qcdc" forms)
grep -q "^kl120_tk" <<<"$forms" || { echo "forms does not list kl120_tk" >&2; exit 1; }
"$qcdc" generate --form kl120_tk --out bieu_mau_kl120
count=$(find bieu_mau_kl120 -name '*.xlsx' | wc -l)
[ "$count" -eq 77 ] || { echo "generate --form kl120_tk wrote $count templates, expected 77" >&2; exit 1; }
"$qcdc" aggregate "$repo/samples/kl120_tk/returns" --form kl120_tk -o tong_hop_kl120.xlsx --json bao_cao_kl120.json
[ -s tong_hop_kl120.xlsx ] && [ -s bao_cao_kl120.json ] || { echo "aggregate --form kl120_tk wrote nothing" >&2; exit 1; }
echo "wheel smoke test: installed wheel ran forms, generate, aggregate and check (both bundled forms) from $work/run"
