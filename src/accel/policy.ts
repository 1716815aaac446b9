// The policy's userspace half: the `config` and `port_rules` maps the BPF programs read, and the
// `services` map they learn into, decoded (layouts in the contract of bpf/sockaccel.bpf.c).
import { BpfMap, UsageError } from '../index.js';
import type { Policy } from './types.js';

export interface PolicyConfig {
  policy: Policy;
  /** Insert nothing new (a `down` in progress); everything else keeps running. */
  draining: boolean;
  trace: boolean;
  /** Only ports with an include rule are candidates. */
  portFilter: boolean;
  /** Average write size from which a stream counts as bulk (redirect wins from 32 KiB: docs/policy.md). */
  bulkBytes: number;
  /** Writes from which a stream of small writes is recognised. */
  smallWrites: number;
  /** Writes observed per connection before its service learns (and observation of it stops). */
  sampleWrites: number;
}

export const DEFAULT_THRESHOLDS = { bulkBytes: 32768, smallWrites: 64, sampleWrites: 2048 } as const;

const KEY0 = Buffer.alloc(4);

export function encodeConfig(c: PolicyConfig): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(c.policy === 'all' ? 1 : 0, 0);
  b.writeUInt32LE(c.draining ? 1 : 0, 4);
  b.writeUInt32LE(c.trace ? 1 : 0, 8);
  b.writeUInt32LE(c.portFilter ? 1 : 0, 12);
  b.writeUInt32LE(c.bulkBytes, 16);
  b.writeUInt32LE(c.smallWrites, 20);
  b.writeUInt32LE(c.sampleWrites, 24);
  return b;
}

export function decodeConfig(b: Buffer): PolicyConfig {
  return {
    policy: b.readUInt32LE(0) === 1 ? 'all' : 'learn',
    draining: b.readUInt32LE(4) === 1,
    trace: b.readUInt32LE(8) === 1,
    portFilter: b.readUInt32LE(12) === 1,
    bulkBytes: b.readUInt32LE(16),
    smallWrites: b.readUInt32LE(20),
    sampleWrites: b.readUInt32LE(24),
  };
}

export function writeConfig(map: BpfMap, c: PolicyConfig): void {
  map.update(KEY0, encodeConfig(c));
}

export function readConfig(map: BpfMap): PolicyConfig | undefined {
  const v = map.lookup(KEY0);
  return v ? decodeConfig(v) : undefined;
}

/** Check user-given ports: integers 1..65535, no port both included and excluded. */
export function checkPorts(ports: readonly number[] = [], exclude: readonly number[] = []): void {
  for (const p of [...ports, ...exclude]) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new UsageError('BAD_ARGUMENT', `port ${p} is not a port number (1-65535)`);
  }
  const both = ports.filter((p) => exclude.includes(p));
  if (both.length) throw new UsageError('BAD_ARGUMENT', `port ${both.join(', ')} is both included (--ports) and excluded (--exclude-ports)`);
}

const RULE_INCLUDE = 1;
const RULE_EXCLUDE = 2;

export function writePortRules(map: BpfMap, ports: readonly number[], exclude: readonly number[]): void {
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  for (const p of ports) map.update(u32(p), u32(RULE_INCLUDE));
  for (const p of exclude) map.update(u32(p), u32(RULE_EXCLUDE));
}

const SVC = { SPLICE_SRV: 1, SPLICE_CLI: 2, BLOCK_SRV: 4, BLOCK_CLI: 8, SEMANTICS: 16 } as const;

export type Verdict = 'accelerate' | 'probation' | 'tcp';

export interface ServiceInfo {
  netns: bigint;
  /** The server's address ("127.0.0.1", "::1") and port. */
  address: string;
  port: number;
  verdict: Verdict;
  /** Why, in a few words: "request/response or bulk writes", "server reads with splice", … */
  reason: string;
  /** What observed connections showed: splice-server, splice-client, blocking-server, blocking-client, waitall-lowat. */
  seen: string[];
  score: number;
  /** Observed sides: good (request/response, bulk), small-write streams, all. */
  good: number;
  small: number;
  observed: number;
  /** Sockets inserted for this service so far. */
  inserted: number;
}

function address(b: Buffer, at: number): string {
  const words = [0, 1, 2, 3].map((i) => b.readUInt32BE(at + i * 4));
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return [...b.subarray(at + 12, at + 16)].join('.');
  if (words.every((w, i) => w === (i === 3 ? 1 : 0))) return '::1';
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(at + i).toString(16));
  return parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** The verdict the BPF side would give a connection of this service now (mirrors verdict_of()). */
export function verdictOf(flags: number, score: number, small: number): { verdict: Verdict; reason: string } {
  if ((flags & (SVC.SPLICE_SRV | SVC.SPLICE_CLI)) === (SVC.SPLICE_SRV | SVC.SPLICE_CLI)) return { verdict: 'tcp', reason: 'both sides read with splice' };
  if (flags & (SVC.BLOCK_SRV | SVC.BLOCK_CLI)) return { verdict: 'tcp', reason: `a blocking reader exposed to EAGAIN (${flags & SVC.BLOCK_SRV ? 'server' : 'client'})` };
  if (flags & SVC.SEMANTICS) return { verdict: 'tcp', reason: 'readers relying on MSG_WAITALL / SO_RCVLOWAT' };
  if (score > 0) return { verdict: 'accelerate', reason: flags & SVC.SPLICE_SRV ? 'request/response or bulk (client → server stays on TCP: the server splices)' : flags & SVC.SPLICE_CLI ? 'request/response or bulk (server → client stays on TCP: the client splices)' : 'request/response or bulk writes' };
  if (small) return { verdict: 'tcp', reason: 'a stream of small writes' };
  return { verdict: 'probation', reason: 'not known yet: its connections run on TCP and are observed' };
}

export function decodeService(key: Buffer, value: Buffer): ServiceInfo {
  const flags = value.readUInt32LE(0);
  const score = value.readInt32LE(4);
  const small = value.readUInt32LE(12);
  const seen = [
    flags & SVC.SPLICE_SRV ? 'splice-server' : '', flags & SVC.SPLICE_CLI ? 'splice-client' : '',
    flags & SVC.BLOCK_SRV ? 'blocking-server' : '', flags & SVC.BLOCK_CLI ? 'blocking-client' : '',
    flags & SVC.SEMANTICS ? 'waitall-lowat' : '',
  ].filter(Boolean);
  return {
    netns: key.readBigUInt64LE(0),
    address: address(key, 8),
    port: key.readUInt32LE(24),
    ...verdictOf(flags, score, small),
    seen,
    score,
    good: value.readUInt32LE(8),
    small,
    observed: value.readUInt32LE(16),
    inserted: value.readUInt32LE(20),
  };
}

/** Every learned service (bounded by the map's size). */
export function listServices(map: BpfMap): ServiceInfo[] {
  const out: ServiceInfo[] = [];
  for (const [k, v] of map.entries()) out.push(decodeService(k, v));
  return out.sort((a, b) => a.port - b.port || a.address.localeCompare(b.address));
}
