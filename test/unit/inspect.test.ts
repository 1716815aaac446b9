// inspectObject / renderInspection on the committed objects: what the loader sees, as data and text.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspectObject, renderInspection } from '../../src/inspect/inspect.js';
import { ObjectError } from '../../src/errors.js';
import { fixturePath, REPO_ROOT } from './fixtures.js';

const SOCKACCEL = resolve(REPO_ROOT, 'bpf', 'sockaccel.bpf.o');
const inspect = (path: string) => inspectObject(readFileSync(path), path);

test('sockaccel: maps, programs, license, sections', () => {
  const x = inspect(SOCKACCEL);
  assert.is(x.license, 'GPL');
  const hash = x.maps.find((m) => m.name === 'sock_hash');
  assert.ok(hash);
  assert.is(hash!.type, 'SOCKHASH');
  assert.is(hash!.kind, 'map');
  assert.ok(x.maps.some((m) => m.name === 'counters' && m.type === 'PERCPU_ARRAY'));
  const progs = Object.fromEntries(x.programs.map((p) => [p.name, p]));
  assert.is(progs.sockaccel_sockops!.type, 'SOCK_OPS');
  assert.is(progs.sockaccel_sockops!.expectedAttachType, 'CGROUP_SOCK_OPS');
  assert.is(progs.sockaccel_msg!.type, 'SK_MSG');
  assert.is(progs.sockaccel_msg!.expectedAttachType, 'SK_MSG_VERDICT');
  // The learning policy's observers.
  assert.is(progs.obs_send!.type, 'TRACING');
  assert.is(progs.obs_send!.expectedAttachType, 'TRACE_RAW_TP');
  assert.is(progs.obs_splice_enter!.type, 'TRACEPOINT');
  assert.is(progs.obs_send_fexit!.expectedAttachType, 'TRACE_FEXIT');
  for (const p of x.programs) {
    assert.ok(p.instructions > 3, p.name);
    assert.is(p.funcInfo, 1, p.name);
    assert.ok(p.lineInfo > 1, p.name);
  }
  const names = x.sections.map((s) => s.name);
  for (const n of ['sockops', 'sk_msg', 'tp_btf/sock_send_length', '.maps', 'license', '.BTF', '.BTF.ext']) assert.ok(names.includes(n), n);
  assert.is(x.sections.find((s) => s.name === 'sockops')!.flags, 'AX');
  assert.ok(x.btf && x.btf.types > 10 && x.btf.byKind.STRUCT! > 0);
  // CO-RE: the kernel structs the half-close and splice rescues read (sock, socket, file, sk_psock).
  assert.ok(x.coreRelocations.length > 0);
});

test('sockaccel: relocations name maps; the disassembly resolves them, names helpers and shows C', () => {
  const x = inspect(SOCKACCEL);
  const msg = x.disassembly.find((l) => l.function === 'sockaccel_msg')!;
  const sockops = x.disassembly.find((l) => l.function === 'sockaccel_sockops')!;
  const texts = (l: typeof msg) => l.lines.map((line) => line.text);
  assert.ok(texts(msg).some((t) => /^r\d = map\[sock_hash\] ll$/.test(t)));
  assert.ok(texts(msg).includes('call bpf_msg_redirect_hash'));
  assert.ok(texts(sockops).includes('call bpf_sock_hash_update'));
  // Each map relocation points at an ld_imm64 whose text names that map.
  for (const r of x.relocations.filter((r) => r.kind === 'map')) {
    const listing = x.disassembly.find((l) => l.function === r.function)!;
    assert.is(listing.lines.find((l) => l.index === r.insn)!.text.split(' = ')[1], `map[${r.target}] ll`);
  }
  assert.ok(x.relocations.some((r) => r.kind === 'data' && r.target === '.rodata'), 'the trace formats live in .rodata');
  // line_info: C lines from the source file.
  const sources = msg.lines.filter((l) => l.source).map((l) => l.source!);
  assert.ok(sources.length > 5);
  assert.ok(sources.every((s) => s.file.endsWith('sockaccel.bpf.c') && s.line > 0));
  const text = renderInspection(x);
  assert.match(text, /^program sockaccel_msg \(section sk_msg\):$/m);
  assert.match(text, /^; .* {3}\[sockaccel\.bpf\.c:\d+\]$/m);
  assert.match(text, /^ +\d+: call bpf_msg_redirect_hash$/m);
  assert.match(text, /^ {2}sock_hash +SOCKHASH/m);
});

test('subprograms, callbacks and globals (fixtures)', () => {
  const calls = inspect(fixturePath('calls'));
  assert.ok(calls.subprograms.some((f) => f.name === 'inner_step'));
  const all = calls.disassembly.flatMap((l) => l.lines.map((x) => x.text));
  assert.ok(all.includes('call inner_step'));
  assert.ok(all.some((t) => /func\[sum_callback\]/.test(t)));
  assert.ok(calls.relocations.some((r) => r.kind === 'func' && r.target === 'sum_callback'));
  assert.ok(calls.relocations.some((r) => r.kind === 'call'));
  const globals = inspect(fixturePath('globals'));
  assert.ok(globals.globals.length > 0);
  assert.ok(globals.maps.some((m) => m.kind === 'data' && m.name === '.rodata'));
});

test('CO-RE relocations are listed with their accessors spelled out', () => {
  const x = inspect(fixturePath('core'));
  assert.is(x.coreRelocations.length, 3);
  assert.ok(x.coreRelocations.every((c) => c.type === 'struct task_like'));
  assert.equal(x.coreRelocations.map((c) => [c.kind, c.accessor, c.access]), [
    ['byte_off', '0:2', 'task_like->parent'], ['byte_off', '0:1', 'task_like->tgid'], ['field_exists', '0:0', 'task_like->pid'],
  ]);
  assert.match(renderInspection(x), /CO-RE relocations \(3\):/);
});

test('JSON round-trips and a malformed object is an ObjectError', () => {
  const x = inspect(SOCKACCEL);
  assert.equal(JSON.parse(JSON.stringify(x)).programs, x.programs);
  const bad = Buffer.from(readFileSync(SOCKACCEL));
  bad.write('JUNK', 0);
  assert.throws(() => inspectObject(bad, 'bad.o'), (e: unknown) => e instanceof ObjectError);
});

test.run();
