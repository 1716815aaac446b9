#!/usr/bin/env bash
# Run tools/libbpf-oracle.sh over every bpf/corpus/*.bpf.o and write one JSON file keyed by object.
#
#   tools/corpus-oracle.sh [OUT.json]
#
# Default OUT: bpf/corpus/expected-host-<major.minor of uname -r>.json (the committed one is
# expected-host-6.18.json). Kernel-agnostic: in a VM guest (tools/vm, Debian 6.1/6.12) it writes
# expected-host-6.1.json / -6.12.json the same way; give OUT under the checkout, not /tmp (the guest's
# /tmp is its own).
#
# Objects that need a partner: freplace.bpf.o is loaded with freplace_target.bpf.o's target_prog /
# check_len as its attach target (LIBBPF_ORACLE_TARGET).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/bpf/corpus/expected-host-$(uname -r | cut -d. -f1,2).json}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$root/tools/libbpf-oracle.sh" --bpftool >/dev/null
for o in "$root"/bpf/corpus/*.bpf.o; do
  name="$(basename "$o")"
  target=""
  case "$name" in
    freplace.bpf.o) target="$root/bpf/corpus/freplace_target.bpf.o:target_prog:check_len" ;;
  esac
  LIBBPF_ORACLE_TARGET="$target" "$root/tools/libbpf-oracle.sh" "$o" "$tmp/$name.json"
  python3 - "$tmp/$name.json" "$name" >&2 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if d["loaded"]:
    print(f"{sys.argv[2]}: loaded")
else:
    lines = [l for l in d["error"].splitlines() if "failed to load object" not in l and not l.startswith("Error:")]
    print(f"{sys.argv[2]}: refused: {(lines or d['error'].splitlines() or [''])[0][:140]}")
PY
done
python3 - "$tmp" "$out" <<'PY'
import json, os, sys
d, out = sys.argv[1], sys.argv[2]
docs = {}
for f in sorted(os.listdir(d)):
    j = json.load(open(os.path.join(d, f)))
    docs[j["object"]] = j
first = next(iter(docs.values()))
res = {"kernel": first["kernel"], "oracle": first["oracle"],
       "note": "tools/corpus-oracle.sh; tags of objects with untyped ksyms (kallsyms addresses) change every boot; "
               "kfunc/typed-ksym BTF ids and kconfig values are kernel-specific",
       "objects": {}}
for k, v in docs.items():
    v = dict(v)
    v.pop("kernel", None); v.pop("oracle", None); v.pop("object", None)
    res["objects"][k] = v
json.dump(res, open(out, "w"), indent=1, sort_keys=True)
open(out, "a").write("\n")
print(f"wrote {out}: {sum(1 for v in docs.values() if v['loaded'])} of {len(docs)} loaded", file=sys.stderr)
PY
