// cgroup attach types on a test cgroup (never the root): each program's effect on a python process
// run inside it — connect4 rewrites a destination (the bytes reach another port), sock_create
// refuses UDP sockets, sysctl refuses reads, cgroup_skb egress counts the datagrams sent — and the
// same process outside the cgroup, or after close()/detach(), is unaffected. The attach type comes
// from the program's section; both the link and the BPF_PROG_ATTACH way are run.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { attachCgroup, AttachType, BpfProgram, CgroupLink, enumName, ProgAttachment, ProgType, UsageError, type LoadedProgram } from '../../src/index.js';
import { encode, exit, movR0 } from '../../src/asm/encode.js';
import { openCgroup } from '../../src/link/attach.js';
import { SECTION_DEFS } from '../../src/object/sections.js';
import { progLoadTry, progQuery } from '../../src/sys/commands.js';
import { freePort, run } from '../support/proc.js';
import { Scope } from '../support/scope.js';
import { loadFixture, type Fixture } from './attach-helpers.js';

const t = suite('attach: cgroup attach types');

async function py(code: string, cgroup?: string): Promise<string> {
  const r = await run('python3', ['-c', code], { cgroup, timeoutMs: 10_000 });
  return (r.stdout + r.stderr).trim();
}
const prog = (f: Fixture, n: string) => f.loaded.programs.get(n) as LoadedProgram;

for (const method of ['link', 'prog_attach'] as const) {
  t(`connect4 (${method}): connect() to one port reaches another, inside the cgroup only`, async () => {
    const scope = new Scope('cg-connect');
    const from = freePort();
    const to = freePort();
    const f = loadFixture('attach_cgroup.bpf.o', ['redirect'], { from_port: from, to_port: to });
    const got: string[] = [];
    const server = createServer((c: Socket) => { c.on('data', (d) => got.push(d.toString())); });
    try {
      server.listen(to, '127.0.0.1');
      await once(server, 'listening');
      const cg = scope.cgroup('connect');
      const a = attachCgroup(prog(f, 'redirect'), cg, { method });
      assert.instance(a, method === 'link' ? CgroupLink : ProgAttachment);
      assert.is(a.attachType, AttachType.CGROUP_INET4_CONNECT, 'the attach type of SEC("cgroup/connect4")');
      const send = `import socket\ntry:\n  s = socket.create_connection(("127.0.0.1", ${from}), timeout=3); s.sendall(b"via-${method}"); s.close(); print("sent")\nexcept OSError as e:\n  print("error", e.errno)`;
      assert.is(await py(send, cg), 'sent');
      assert.match(await py(send), /^error 111/, 'outside the cgroup: nothing listens on the original port');
      const deadline = Date.now() + 3000;
      while (!got.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(got, [`via-${method}`]);
      assert.is(f.get('redirected'), 1);
      if (a instanceof ProgAttachment) a.detach(); else a.close();
      assert.match(await py(send, cg), /^error 111/, 'detached: the destination is what was asked for');
    } finally {
      server.close();
      f.close();
      await scope.close();
    }
  });
}

t('sock_create: UDP sockets are refused in the cgroup (EPERM), TCP ones are not; by section with { cgroup }', async () => {
  const scope = new Scope('cg-sock');
  const f = loadFixture('attach_cgroup.bpf.o', ['no_udp']);
  try {
    const cg = scope.cgroup('sock');
    const link = prog(f, 'no_udp').attach({ cgroup: cg });
    assert.instance(link, CgroupLink);
    const code = `import socket\nfor t in (socket.SOCK_DGRAM, socket.SOCK_STREAM):\n  try:\n    socket.socket(socket.AF_INET, t).close(); print("ok", t)\n  except OSError as e:\n    print("error", t, e.errno)`;
    assert.is(await py(code, cg), 'error 2 1\nok 1');
    assert.is(f.get('udp_denied'), 1);
    assert.is(await py(code), 'ok 2\nok 1', 'outside: both work');
    link.close();
    assert.is(await py(code, cg), 'ok 2\nok 1', 'closed: both work');
  } finally {
    f.close();
    await scope.close();
  }
});

t('sysctl: reads of /proc/sys are refused in the cgroup', async () => {
  const scope = new Scope('cg-sysctl');
  const f = loadFixture('attach_cgroup.bpf.o', ['no_sysctl']);
  try {
    const cg = scope.cgroup('sysctl');
    const link = attachCgroup(prog(f, 'no_sysctl'), cg);
    const code = `try:\n  print(open("/proc/sys/kernel/ostype").read().strip())\nexcept OSError as e:\n  print("error", e.errno)`;
    assert.is(await py(code, cg), 'error 1');
    assert.ok(f.get('sysctl_denied') >= 1);
    assert.is(await py(code), 'Linux');
    link.close();
    assert.is(await py(code, cg), 'Linux');
  } finally {
    f.close();
    await scope.close();
  }
});

t('cgroup_skb egress: counts exactly the UDP datagrams (and bytes) the cgroup sends', async () => {
  const scope = new Scope('cg-skb');
  const f = loadFixture('attach_cgroup.bpf.o', ['egress']);
  try {
    const cg = scope.cgroup('skb');
    const link = attachCgroup(prog(f, 'egress'), cg);
    const port = freePort();
    const code = `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range(5): s.sendto(b"x" * 100, ("127.0.0.1", ${port}))\nprint("done")`;
    assert.is(await py(code, cg), 'done');
    assert.is(f.get('egress_packets'), 5);
    assert.is(f.get('egress_bytes'), 5 * (20 + 8 + 100));
    link.close();
  } finally {
    f.close();
    await scope.close();
  }
});

// Every attach type of libbpf's cgroup sections, each with a program that allows everything
// (r0 = 1): attached by link and by PROG_ATTACH, the kernel's query of the cgroup lists exactly it,
// and after close()/detach() nothing. The effects of the hooks are tested above.
const CGROUP_PROG_TYPES: ReadonlySet<number> = new Set([
  ProgType.CGROUP_SKB, ProgType.CGROUP_SOCK, ProgType.CGROUP_SOCK_ADDR, ProgType.SOCK_OPS, ProgType.CGROUP_DEVICE, ProgType.CGROUP_SYSCTL, ProgType.CGROUP_SOCKOPT,
]);
const cgroupKinds = [...new Map(SECTION_DEFS.filter((d) => CGROUP_PROG_TYPES.has(d.type) && d.expectedAttachType).map((d) => [d.expectedAttachType, d])).values()];

t(`every cgroup attach type (${cgroupKinds.length}): the cgroup lists the program while attached, by link and by PROG_ATTACH`, async () => {
  const scope = new Scope('cg-every');
  const refused: string[] = [];
  try {
    const cg = scope.cgroup('every');
    const target = openCgroup(cg);
    try {
      for (const d of cgroupKinds) {
        const name = enumName(AttachType, d.expectedAttachType);
        const insns = encode([movR0(1), exit()]);
        const r = progLoadTry({ prog_type: d.type, insn_cnt: insns.length / 8, insns, license: 'GPL', prog_name: 'allow', expected_attach_type: d.expectedAttachType }, `allow-all program for ${d.sec}`);
        if (!r.fd) { refused.push(`${d.sec} (${name}): load ${r.errno}`); continue; }
        const p = new BpfProgram(r.fd, 'allow', d.type, d.expectedAttachType);
        try {
          const id = p.info().id;
          for (const method of ['link', 'prog_attach'] as const) {
            const a = attachCgroup(p, cg, { method });
            assert.is(a.attachType, d.expectedAttachType, `${d.sec}: attach type`);
            assert.equal(progQuery(target.fd, d.expectedAttachType, name).ids, [id], `${d.sec} (${method}): the cgroup lists the program`);
            if (a instanceof ProgAttachment) a.detach(); else a.close();
            assert.equal(progQuery(target.fd, d.expectedAttachType, name).ids, [], `${d.sec} (${method}): gone after close`);
          }
        } finally {
          p.close();
        }
      }
    } finally {
      target.fd.close();
    }
    // Only attach types newer than this kernel may be refused (the unix socket hooks are 6.7+).
    for (const r of refused) assert.match(r, /unix/, `refused: ${r}`);
  } finally {
    await scope.close();
  }
});

t('a cgroup program needs a cgroup; methods that do not apply are refused', () => {
  const f = loadFixture('attach_cgroup.bpf.o', ['egress']);
  try {
    assert.throws(() => prog(f, 'egress').attach(), (e: unknown) => e instanceof UsageError && /attaches to a cgroup/.test(e.message));
    assert.throws(() => attachCgroup(prog(f, 'egress'), '/tmp', { method: 'netlink' }), (e: unknown) => e instanceof UsageError && /does not apply/.test(e.message));
  } finally {
    f.close();
  }
});

t.run();
