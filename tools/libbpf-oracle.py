#!/usr/bin/env python3
"""Collector half of tools/libbpf-oracle.sh (run it through that script, not directly).

After `bpftool prog loadall OBJ DIR/progs pinmaps DIR/maps` has loaded an object with libbpf and
pinned what it made, this reads the pins back and prints one JSON document on stdout:

  {"object", "loaded": true, "oracle", "kernel",
   "programs": [{name, kernel_name, type, tag, bytes_xlated, maps: [map names],
                 attach_btf: {obj, kind, name} | null}],
   "maps": [{name, pin, kernel_name, type, key_size, value_size, max_entries, flags, map_extra,
             btf_vmlinux_value_type, frozen, pinned_by_libbpf, contents}]}

or, when bpftool failed, {"object", "loaded": false, "error": "...", "oracle", "kernel"}.

Names are libbpf's (the pin file names under DIR/progs are the programs' C names; map pins under
DIR/maps are bpf_map__name() with '.' turned into '_' by libbpf): compare by name, never by id.
`contents` lists only non-zero entries, so an untouched map and an all-zero .bss compare equal
however big they are; prog-array and map-in-map slots give the program / inner map *name* found in
the slot. Nothing here attaches, writes or creates anything: it opens pins read-only and asks.
"""
import ctypes
import json
import os
import platform
import re
import subprocess
import sys

BPF_OBJ_GET = 7
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_F_RDONLY = 1 << 3
SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine(), 321)

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class ObjGetAttr(ctypes.Structure):
    _fields_ = [("pathname", ctypes.c_uint64), ("bpf_fd", ctypes.c_uint32),
                ("file_flags", ctypes.c_uint32), ("path_fd", ctypes.c_int32),
                ("_pad", ctypes.c_uint8 * 124)]


class InfoAttr(ctypes.Structure):
    _fields_ = [("bpf_fd", ctypes.c_uint32), ("info_len", ctypes.c_uint32),
                ("info", ctypes.c_uint64), ("_pad", ctypes.c_uint8 * 128)]


class ProgInfo(ctypes.Structure):
    # struct bpf_prog_info up to attach_btf_id (uapi; offsets checked: attach_btf_obj_id at 220)
    _fields_ = [("type", ctypes.c_uint32), ("id", ctypes.c_uint32), ("tag", ctypes.c_uint8 * 8),
                ("jited_prog_len", ctypes.c_uint32), ("xlated_prog_len", ctypes.c_uint32),
                ("jited_prog_insns", ctypes.c_uint64), ("xlated_prog_insns", ctypes.c_uint64),
                ("load_time", ctypes.c_uint64), ("created_by_uid", ctypes.c_uint32),
                ("nr_map_ids", ctypes.c_uint32), ("map_ids", ctypes.c_uint64),
                ("name", ctypes.c_char * 16), ("ifindex", ctypes.c_uint32),
                ("gpl_compatible", ctypes.c_uint32), ("netns_dev", ctypes.c_uint64),
                ("netns_ino", ctypes.c_uint64), ("nr_jited_ksyms", ctypes.c_uint32),
                ("nr_jited_func_lens", ctypes.c_uint32), ("jited_ksyms", ctypes.c_uint64),
                ("jited_func_lens", ctypes.c_uint64), ("btf_id", ctypes.c_uint32),
                ("func_info_rec_size", ctypes.c_uint32), ("func_info", ctypes.c_uint64),
                ("nr_func_info", ctypes.c_uint32), ("nr_line_info", ctypes.c_uint32),
                ("line_info", ctypes.c_uint64), ("jited_line_info", ctypes.c_uint64),
                ("nr_jited_line_info", ctypes.c_uint32), ("line_info_rec_size", ctypes.c_uint32),
                ("jited_line_info_rec_size", ctypes.c_uint32), ("nr_prog_tags", ctypes.c_uint32),
                ("prog_tags", ctypes.c_uint64), ("run_time_ns", ctypes.c_uint64),
                ("run_cnt", ctypes.c_uint64), ("recursion_misses", ctypes.c_uint64),
                ("verified_insns", ctypes.c_uint32), ("attach_btf_obj_id", ctypes.c_uint32),
                ("attach_btf_id", ctypes.c_uint32), ("_tail", ctypes.c_uint32)]


class MapInfo(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("id", ctypes.c_uint32), ("key_size", ctypes.c_uint32),
                ("value_size", ctypes.c_uint32), ("max_entries", ctypes.c_uint32),
                ("map_flags", ctypes.c_uint32), ("name", ctypes.c_char * 16),
                ("ifindex", ctypes.c_uint32), ("btf_vmlinux_value_type_id", ctypes.c_uint32),
                ("netns_dev", ctypes.c_uint64), ("netns_ino", ctypes.c_uint64),
                ("btf_id", ctypes.c_uint32), ("btf_key_type_id", ctypes.c_uint32),
                ("btf_value_type_id", ctypes.c_uint32), ("btf_vmlinux_id", ctypes.c_uint32),
                ("map_extra", ctypes.c_uint64)]


def bpf(cmd, attr):
    r = libc.syscall(SYS_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def obj_info(path, info_cls, file_flags=0):
    p = ctypes.create_string_buffer(path.encode())
    a = ObjGetAttr(pathname=ctypes.addressof(p), file_flags=file_flags)
    fd = bpf(BPF_OBJ_GET, a)
    try:
        info = info_cls()
        ia = InfoAttr(bpf_fd=fd, info_len=ctypes.sizeof(info), info=ctypes.addressof(info))
        bpf(BPF_OBJ_GET_INFO_BY_FD, ia)
        return info
    finally:
        os.close(fd)


class IdAttr(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint32), ("next_id", ctypes.c_uint32),
                ("open_flags", ctypes.c_uint32), ("_pad", ctypes.c_uint8 * 132)]


BPF_MAP_GET_FD_BY_ID = 14


def map_info_by_id(map_id):
    fd = bpf(BPF_MAP_GET_FD_BY_ID, IdAttr(id=map_id, open_flags=BPF_F_RDONLY))
    try:
        info = MapInfo()
        ia = InfoAttr(bpf_fd=fd, info_len=ctypes.sizeof(info), info=ctypes.addressof(info))
        bpf(BPF_OBJ_GET_INFO_BY_FD, ia)
        return info
    finally:
        os.close(fd)


class Ctx:
    def __init__(self, bpftool):
        self.bpftool = bpftool
        self.btf_cache = {}

    def tool(self, *args):
        r = subprocess.run([self.bpftool, "-j", *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"bpftool {' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
        return json.loads(r.stdout) if r.stdout.strip() else None

    def btf_names(self, obj_id, name):
        """{type id: (kind, name)} of one BTF object. vmlinux's (100k+ types) is kept in /tmp
        for the boot, so a run over hundreds of objects dumps it once."""
        cache = None
        if name == "vmlinux":
            boot = open("/proc/sys/kernel/random/boot_id").read().strip()
            cache = f"/tmp/libbpf-oracle-vmlinux-btf-{boot}.json"
            try:
                return {int(k): tuple(v) for k, v in json.load(open(cache)).items()}
            except (OSError, ValueError):
                pass
        r = subprocess.run([self.bpftool, "btf", "dump", "id", str(obj_id), "format", "raw"],
                           capture_output=True, text=True)
        types = {}
        for line in r.stdout.splitlines():
            m = re.match(r"^\[(\d+)\] (\S+) '([^']*)'", line)
            if m:
                types[int(m.group(1))] = (m.group(2), m.group(3))
        if cache and types:
            tmp = f"{cache}.{os.getpid()}"
            json.dump(types, open(tmp, "w"))
            os.replace(tmp, cache)
        return types

    def btf_type(self, obj_id, type_id):
        """(btf object name, kind, type name) of type_id in BTF object obj_id."""
        if obj_id not in self.btf_cache:
            show = self.tool("btf", "show", "id", str(obj_id)) or {}
            name = show.get("name") or ""
            if not name:
                progs = show.get("prog_ids") or []
                name = f"prog BTF (prog ids {progs})" if progs else "prog/map BTF"
            self.btf_cache[obj_id] = (name, self.btf_names(obj_id, name))
        name, types = self.btf_cache[obj_id]
        kind, tname = types.get(type_id, ("?", "?"))
        return name, kind, tname


MAP_FLAGS = ["NO_PREALLOC", "NO_COMMON_LRU", "NUMA_NODE", "RDONLY", "WRONLY", "STACK_BUILD_ID",
             "ZERO_SEED", "RDONLY_PROG", "WRONLY_PROG", "CLONE", "MMAPABLE", "PRESERVE_ELEMS",
             "INNER_MAP", "LINK", "PATH_FD", "VTYPE_BTF_OBJ_FD", "TOKEN_FD", "SEGV_ON_FAULT",
             "NO_USER_CONV"]


def flag_names(flags):
    return [MAP_FLAGS[i] if i < len(MAP_FLAGS) else f"bit{i}" for i in range(32) if flags >> i & 1]


def hexstr(byte_list):
    return "".join(b[2:] if b.startswith("0x") else b for b in byte_list)


def key_repr(key_hex, key_size):
    if key_size in (4, 8):
        return str(int.from_bytes(bytes.fromhex(key_hex), sys.byteorder))
    return key_hex


DUMPED = {"array", "prog_array", "array_of_maps", "hash_of_maps", "hash", "lru_hash",
          "percpu_array", "percpu_hash", "lpm_trie", "devmap", "devmap_hash", "cpumap"}
SLOT_PROGS = {"prog_array"}
SLOT_MAPS = {"array_of_maps", "hash_of_maps"}


def contents(ctx, ref, mtype, key_size, prog_by_id, map_by_id):
    if mtype not in DUMPED:
        return None
    try:
        entries = ctx.tool("map", "dump", *ref) or []
    except RuntimeError as e:
        return {"error": str(e)}
    out = {}
    for ent in entries:
        if "key" not in ent:
            continue
        k = key_repr(hexstr(ent["key"]), key_size)
        if "values" in ent:  # per-CPU: list of {cpu, value}
            vals = [hexstr(v["value"]) for v in ent["values"]]
            if all(set(v) <= {"0"} for v in vals):
                continue
            out[k] = vals
            continue
        v = hexstr(ent.get("value", []))
        if mtype in SLOT_PROGS or mtype in SLOT_MAPS:
            ident = int.from_bytes(bytes.fromhex(v), sys.byteorder) if v else 0
            table = prog_by_id if mtype in SLOT_PROGS else map_by_id
            out[k] = table.get(ident, f"id {ident} (not in this object)")
            continue
        if set(v) <= {"0"}:
            continue
        out[k] = v
    return out


def pins_under(d):
    res = []
    for base, _dirs, files in os.walk(d):
        for f in files:
            res.append(os.path.join(base, f))
    return sorted(res)


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--object", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--bpffs", required=True)
    ap.add_argument("--rc", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--bpftool", required=True)
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--maps-by-id", action="store_true")
    ap.add_argument("--meta")
    a = ap.parse_args()
    ctx = Ctx(a.bpftool)
    doc = {"object": os.path.basename(a.object), "oracle": a.oracle, "kernel": platform.release()}
    # The object's absolute path (in libbpf's messages) says where the checkout is, not what happened.
    log = open(a.log, errors="replace").read().replace(a.object, doc["object"]).splitlines()
    progs_dir, maps_dir = os.path.join(a.dir, "progs"), os.path.join(a.dir, "maps")
    # --maps-by-id: loaded without `pinmaps` (an object with LIBBPF_PIN_BY_NAME maps, see the
    # shell half): the maps are found through the programs' map ids and libbpf's own pins. Maps no
    # program uses and libbpf did not pin are then not seen.
    pin_maps_failed = a.maps_by_id
    if a.rc != 0:
        doc["loaded"] = False
        doc["error"] = error_summary(log)
        print(json.dumps(doc, indent=1, sort_keys=True))
        return
    doc["loaded"] = True

    map_refs = [("pinned", p) for p in ([] if pin_maps_failed else pins_under(maps_dir))]
    # Maps libbpf pinned itself (BTF `pinning = LIBBPF_PIN_BY_NAME`, default root /sys/fs/bpf): the
    # oracle runs in a private bpffs, so anything outside DIR was pinned by libbpf during load.
    preloaded = {os.path.join(a.bpffs, n) for n in ("maps.debug", "progs.debug")}
    auto_pins = [p for p in pins_under(a.bpffs)
                 if not p.startswith(a.dir + "/") and p not in preloaded]
    map_refs += [("pinned", p) for p in auto_pins]
    prog_shows = [(pin, ctx.tool("prog", "show", "pinned", pin) or {}) for pin in pins_under(progs_dir)]
    if pin_maps_failed:
        doc["maps_found_by"] = "program map ids and libbpf's own pins (pinmaps cannot be used with LIBBPF_PIN_BY_NAME maps)"
        ids = sorted({i for _, show in prog_shows for i in show.get("map_ids", [])})
        map_refs += [("id", str(i)) for i in ids]

    map_by_id, maps = {}, []
    for ref in map_refs:
        show = ctx.tool("map", "show", *ref) or {}
        mid = show.get("id")
        if mid in map_by_id:
            for m in maps:
                if m["id"] == mid and ref[0] == "pinned":
                    m["also_pinned_at"] = ref[1]
            continue
        info = obj_info(ref[1], MapInfo, BPF_F_RDONLY) if ref[0] == "pinned" else map_info_by_id(int(ref[1]))
        # A pin's file name is libbpf's map name ('.' -> '_'); a map found by id has only its
        # kernel name (15 chars).
        name = os.path.basename(ref[1]) if ref[0] == "pinned" else info.name.decode(errors="replace").replace(".", "_")
        map_by_id[info.id] = name
        maps.append({"id": info.id, "ref": ref, "name": name,
                     "pin": ref[1].replace(a.dir, "DIR") if ref[0] == "pinned" else None,
                     "kernel_name": info.name.decode(errors="replace"),
                     "type": show.get("type", info.type), "key_size": info.key_size,
                     "value_size": info.value_size, "max_entries": info.max_entries,
                     "flags": info.map_flags, "flag_names": flag_names(info.map_flags),
                     "map_extra": info.map_extra,
                     "frozen": bool(show.get("frozen", 0)),
                     "btf_key_value": bool(info.btf_key_type_id or info.btf_value_type_id),
                     "pinned_by_libbpf": ref[0] == "pinned" and ref[1] in auto_pins,
                     "btf_vmlinux_value_type": None, "_vmlinux_vt": info.btf_vmlinux_value_type_id,
                     "_btf_vmlinux_id": info.btf_vmlinux_id})

    prog_by_id, progs = {}, []
    for pin, show in prog_shows:
        info = obj_info(pin, ProgInfo)
        name = os.path.basename(pin)
        prog_by_id[info.id] = name
        attach = None
        if info.attach_btf_obj_id or info.attach_btf_id:
            obj, kind, tname = ctx.btf_type(info.attach_btf_obj_id, info.attach_btf_id)
            attach = {"obj": obj, "kind": kind, "name": tname}
        progs.append({"name": name, "kernel_name": show.get("name", info.name.decode()),
                      "type": show.get("type", info.type), "tag": show.get("tag"),
                      "bytes_xlated": show.get("bytes_xlated", info.xlated_prog_len),
                      "gpl_compatible": bool(show.get("gpl_compatible", False)),
                      "maps": sorted(map_by_id.get(i, f"id {i} (not pinned)")
                                     for i in show.get("map_ids", [])),
                      "attach_btf": attach})

    for m in maps:
        vt, vid = m.pop("_vmlinux_vt"), m.pop("_btf_vmlinux_id")
        if vt:
            obj, kind, tname = ctx.btf_type(vid, vt) if vid else ("vmlinux?", "?", str(vt))
            m["btf_vmlinux_value_type"] = f"{kind} {tname}"
        m["contents"] = contents(ctx, m.pop("ref"), m["type"], m["key_size"], prog_by_id, map_by_id)
        del m["id"]
    if a.meta:  # libbpf's own view, from tools/libbpf-oracle-load.c
        meta = json.load(open(a.meta))
        for p in progs:
            lp = meta["programs"].get(p["name"], {})
            p["section"] = lp.get("section")
            # attach type 0 is both "none" and BPF_CGROUP_INET_INGRESS: keep the number too
            p["expected_attach_type"] = f'{lp.get("expected_attach_type")} ({lp.get("expected_attach_type_id")})'
            p["prog_flags"] = lp.get("prog_flags")  # as passed to BPF_PROG_LOAD (16 sleepable, 32 frags)
            if lp.get("loaded_expected_attach_type") not in (None, lp.get("expected_attach_type_id")):
                p["loaded_expected_attach_type"] = lp.get("loaded_expected_attach_type")
        doc["not_loaded"] = sorted(n for n, lp in meta["programs"].items() if not lp.get("autoload"))
        for lname, lm in meta["maps"].items():
            pin = lm.get("pin")
            m = next((m for m in maps if m["pin"] and pin and m["pin"].replace("DIR", a.dir, 1) == pin), None)
            if m:
                m["libbpf_name"] = lname
    doc["programs"] = sorted(progs, key=lambda p: p["name"])
    doc["maps"] = sorted(maps, key=lambda m: m["name"])
    doc["warnings"] = [l for l in log if l.startswith("libbpf:") and "BEGIN PROG LOAD LOG" not in l][:20]
    print(json.dumps(doc, indent=1, sort_keys=True))


def error_summary(log):
    """The lines that say why: libbpf's own lines and bpftool's Error, without the verifier log body
    (its last line before END is kept: it is usually the verdict)."""
    keep, in_log, last_log_line = [], False, None
    for line in log:
        if "-- BEGIN PROG LOAD LOG --" in line:
            in_log = True
            continue
        if "-- END PROG LOAD LOG --" in line:
            in_log = False
            if last_log_line:
                keep.append("verifier: " + last_log_line)
            continue
        if in_log:
            if line.strip() and not line.startswith("processed ") and not line.startswith("verification time"):
                last_log_line = line.strip()
            continue
        if line.strip():
            keep.append(line.strip())
    return "\n".join(keep[-8:])


if __name__ == "__main__":
    main()
