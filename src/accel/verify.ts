// `verify`: a self-test of an install. Two sockets of our own, inside the accelerated cgroup, move a
// known payload; we compare it with what the loopback device carried and with the counters. When the
// payload went through sk_msg, lo sees only the handshake and FIN (a few hundred bytes).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { BpfMap, cgroupV2Root, UsageError } from '../index.js';
import { mapPin, OBJ } from './layout.js';
import { listServices, type ServiceInfo } from './policy.js';
import { moveSelfTo, ownCgroup } from './cgroup.js';
import { readRecord } from './record.js';
import { stats } from './status.js';
import { DEFAULT_PIN_DIR, type VerifyResult } from './types.js';

const PAYLOAD = 16 * 1024 * 1024;
const CHUNK = 64 * 1024;
const TIMEOUT_MS = 20_000;

export function loTxBytes(): number {
  return Number(readFileSync('/sys/class/net/lo/statistics/tx_bytes', 'utf8'));
}

interface Transfer { sent: string; received: string; count: number }

/** A server on `address` that hashes what each connection brings; `send` runs one client connection. */
function sinkServer(address: string): Promise<{ port: number; send(bytes: number): Promise<Transfer>; close(): void }> {
  return new Promise((resolve, reject) => {
    let pending: { hash: ReturnType<typeof createHash>; count: number; done: (t: { received: string; count: number }) => void; fail: (e: Error) => void } | undefined;
    const server = net.createServer((sock) => {
      const p = pending;
      if (!p) { sock.destroy(); return; }
      sock.on('data', (d) => { p.hash.update(d); p.count += d.length; });
      sock.on('end', () => p.done({ received: p.hash.digest('hex'), count: p.count }));
      sock.on('error', (e) => p.fail(e));
    });
    server.on('error', reject);
    server.listen(0, address, () => {
      const { port } = server.address() as net.AddressInfo;
      const send = (bytes: number) => new Promise<Transfer>((ok, fail) => {
        const hashOut = createHash('sha256');
        const timer = setTimeout(() => fail(new Error(`verify: transfer over ${address} timed out`)), TIMEOUT_MS);
        const finish = (e?: Error) => { clearTimeout(timer); pending = undefined; if (e) fail(e); };
        pending = {
          hash: createHash('sha256'), count: 0,
          done: (r) => { finish(); ok({ sent: hashOut.digest('hex'), ...r }); },
          fail: (e) => finish(e),
        };
        const client = net.connect({ host: address, port }, () => {
          const chunk = randomBytes(CHUNK);
          let left = bytes;
          const pump = () => {
            while (left > 0) {
              const n = Math.min(CHUNK, left);
              const piece = chunk.subarray(0, n);
              hashOut.update(piece);
              left -= n;
              if (!client.write(piece)) { client.once('drain', pump); return; }
            }
            client.end();
          };
          pump();
        });
        client.on('error', (e) => finish(e));
      });
      resolve({ port, send, close: () => server.close() });
    });
  });
}

const WARMUP = 1024 * 1024;

/** Wait (bounded) until the learning policy has decided about server `address`:`port`. */
async function learned(pinDir: string, address: string, port: number, deadlineMs: number): Promise<ServiceInfo | undefined> {
  const map = BpfMap.fromPin(mapPin(pinDir, OBJ.services)); // opened once for the whole wait
  try {
    for (const until = Date.now() + deadlineMs; ;) {
      const s = listServices(map).find((x) => x.address === address && x.port === port);
      if ((s && s.verdict !== 'probation') || Date.now() > until) return s;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    map.close();
  }
}

export async function verify(opts: { pinDir?: string; payloadBytes?: number } = {}): Promise<VerifyResult> {
  const pinDir = opts.pinDir ?? DEFAULT_PIN_DIR;
  const record = readRecord(pinDir);
  if (!record || record.state !== 'up') {
    throw new UsageError('NOT_INSTALLED', `sockaccel is not up in ${pinDir}`, { hint: 'run `sockaccel-ffi up` first (or pass the --pin-dir it was installed with)' });
  }
  const bytes = opts.payloadBytes ?? PAYLOAD;
  // Our sockets must belong to the accelerated cgroup: join it for the test, then go back.
  const home = ownCgroup();
  const inside = home === record.cgroup || home.startsWith(record.cgroup === cgroupV2Root() ? record.cgroup : record.cgroup + '/');
  if (!inside) moveSelfTo(record.cgroup);
  const transports: VerifyResult['transports'] = [];
  const learning = (record.policy ?? 'all') === 'learn';
  try {
    for (const address of ['127.0.0.1', '::1']) {
      const server = await sinkServer(address);
      try {
        let decision = 'policy "all": every connection is redirected';
        if (learning) {
          // A new service starts on TCP: its first connection is observed, then it is decided.
          const w = await server.send(WARMUP);
          if (w.count !== WARMUP) throw new Error(`verify: the warm-up over ${address} delivered ${w.count} of ${WARMUP} bytes`);
          const svc = await learned(pinDir, address, server.port, 2000);
          decision = svc ? `${svc.verdict}: ${svc.reason} (service ${address}:${server.port}, learned from a warm-up connection)` : `no decision learned for ${address}:${server.port} (observers: ${record.observers ?? 'none'})`;
        }
        const before = stats({ pinDir });
        const lo0 = loTxBytes();
        const r = await server.send(bytes);
        const loBytes = loTxBytes() - lo0;
        const after = stats({ pinDir });
        const redirectedBytes = after.redirectedBytes - before.redirectedBytes;
        const ok = r.sent === r.received && r.count === bytes;
        // Accelerated: (nearly) all payload counted as redirected, and lo carried far less than it.
        const accelerated = ok && redirectedBytes >= bytes && loBytes < bytes / 10;
        transports.push({ address, payloadBytes: r.count, loBytes, redirectedBytes, accelerated, ok, decision });
      } finally {
        server.close();
      }
    }
  } finally {
    if (!inside) moveSelfTo(home);
  }
  const accelerated = transports.every((t) => t.accelerated);
  const result: VerifyResult = {
    accelerated,
    payloadBytes: transports.reduce((a, t) => a + t.payloadBytes, 0),
    loBytes: transports.reduce((a, t) => a + t.loBytes, 0),
    redirectedBytes: transports.reduce((a, t) => a + t.redirectedBytes, 0),
    transports,
  };
  if (!accelerated) {
    const bad = transports.find((t) => !t.accelerated)!;
    result.reason = !bad.ok ? `the payload over ${bad.address} arrived damaged or incomplete`
      : bad.redirectedBytes < bad.payloadBytes ? `over ${bad.address} only ${bad.redirectedBytes} of ${bad.payloadBytes} bytes were redirected (${bad.decision}; is this process in ${record.cgroup}?)`
      : `over ${bad.address} lo carried ${bad.loBytes} bytes for ${bad.payloadBytes} of payload`;
  }
  return result;
}
