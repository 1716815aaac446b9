// The seed tutorial's two objects, compiled from its C exactly as written against a vmlinux.h that
// bpftool generates now (a test aid), load with every CO-RE relocation applied: its context fields
// (struct bpf_sock_ops, struct sk_msg_md are preserve_access_index in vmlinux.h) resolve to the
// kernel's own offsets, and bpftool shows the tutorial's C lines in the loaded programs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpfObject, MapType } from '../../src/index.js';
import { buildTutorial } from '../../tools/tutorial-sources.js';
import { removePinDir, tempPinDir } from './helpers.js';
import { need } from '../support/tools.js';

/** Byte offsets of a kernel struct's members, from `bpftool btf dump` of vmlinux (test oracle). */
function memberOffsets(struct: string): Map<string, number> {
  const dump = execFileSync(need('bpftool'), ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const at = dump.search(new RegExp(`^\\[\\d+\\] STRUCT '${struct}' `, 'm'));
  const out = new Map<string, number>();
  for (const line of dump.slice(at).split('\n').slice(1)) {
    const m = /^\s+'([^']*)' type_id=\d+ bits_offset=(\d+)/.exec(line);
    if (!m) break;
    out.set(m[1]!, Number(m[2]) / 8);
  }
  return out;
}

const tutorial = suite('core: the seed tutorial built against vmlinux.h');

tutorial('bpf_contrack and bpf_redirect load, sharing sock_ops_map; CO-RE offsets are the kernel\'s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tutorial-'));
  const pins = tempPinDir('tutorial');
  try {
    need('/usr/include/bpf/bpf_helpers.h'); // the tutorial's #include <bpf/bpf_helpers.h>
    const [redirectPath, contrackPath] = buildTutorial(dir, { bpftool: need('bpftool'), clang: need('clang') });
    const contrack = BpfObject.open(contrackPath!);
    const relos = contrack.programs.get('bpf_sockops_handler')!.coreRelos.length;
    assert.ok(relos > 0, 'the sockops program carries CO-RE relocations');
    const a = contrack.load({ pinMaps: pins });
    try {
      const map = a.maps.get('sock_ops_map')!;
      assert.is(map.info().type, MapType.SOCKHASH);
      const b = BpfObject.open(redirectPath!).load({ maps: { sock_ops_map: map } });
      try {
        const redir = b.programs.get('bpf_redir')!;
        // Every field offset the relocations chose is the kernel's own, as bpftool reads it from vmlinux BTF.
        const kernel = memberOffsets('sk_msg_md');
        const fields = redir.coreRelocations.filter((r) => r.kind === 'byte_off');
        assert.ok(fields.length >= 5);
        for (const r of fields) assert.is(Number(r.newValue), kernel.get(r.access), `sk_msg_md.${r.access}`);
        const xlated = execFileSync(need('bpftool'), ['prog', 'dump', 'xlated', 'id', String(redir.info().id)], { encoding: 'utf8' });
        assert.match(xlated, /return bpf_msg_redirect_hash\(msg, &sock_ops_map, &key, BPF_F_INGRESS\);/);
        const ops = a.programs.get('bpf_sockops_handler')!;
        const sockOps = memberOffsets('bpf_sock_ops');
        for (const r of ops.coreRelocations.filter((x) => x.kind === 'byte_off')) assert.is(Number(r.newValue), sockOps.get(r.access), `bpf_sock_ops.${r.access}`);
      } finally {
        b.close();
      }
    } finally {
      a.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    removePinDir(pins);
  }
});
tutorial.run();
