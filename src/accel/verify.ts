// `verify`: a self-test of an install. Two sockets of our own, inside the accelerated cgroup, move a
// known payload; we compare it with what the loopback device carried and with the counters. When the
// payload went through sk_msg, lo sees only the handshake and FIN (a few hundred bytes).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { cgroupV2Root, UsageError } from '../index.js';
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

/** Send `bytes` from a client to a server on `address`; resolve with the server's sha256 of what it got. */
function transfer(address: string, bytes: number): Promise<{ sent: string; received: string; count: number }> {
  return new Promise((resolve, reject) => {
    const hashIn = createHash('sha256');
    const hashOut = createHash('sha256');
    let count = 0;
    const timer = setTimeout(() => { server.close(); reject(new Error(`verify: transfer over ${address} timed out`)); }, TIMEOUT_MS);
    const server = net.createServer((sock) => {
      sock.on('data', (d) => { hashIn.update(d); count += d.length; });
      sock.on('end', () => {
        clearTimeout(timer);
        server.close();
        resolve({ sent: hashOut.digest('hex'), received: hashIn.digest('hex'), count });
      });
      sock.on('error', (e) => { clearTimeout(timer); server.close(); reject(e); });
    });
    server.on('error', (e) => { clearTimeout(timer); reject(e); });
    server.listen(0, address, () => {
      const { port } = server.address() as net.AddressInfo;
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
      client.on('error', (e) => { clearTimeout(timer); server.close(); reject(e); });
    });
  });
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
  try {
    for (const address of ['127.0.0.1', '::1']) {
      const before = stats({ pinDir });
      const lo0 = loTxBytes();
      const r = await transfer(address, bytes);
      const loBytes = loTxBytes() - lo0;
      const redirectedBytes = stats({ pinDir }).redirectedBytes - before.redirectedBytes;
      const ok = r.sent === r.received && r.count === bytes;
      // Accelerated: (nearly) all payload counted as redirected, and lo carried far less than it.
      const accelerated = ok && redirectedBytes >= bytes && loBytes < bytes / 10;
      transports.push({ address, payloadBytes: r.count, loBytes, redirectedBytes, accelerated, ok });
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
      : bad.redirectedBytes < bad.payloadBytes ? `over ${bad.address} only ${bad.redirectedBytes} of ${bad.payloadBytes} bytes were redirected: the connection was not tracked (is this process in ${record.cgroup}?)`
      : `over ${bad.address} lo carried ${bad.loBytes} bytes for ${bad.payloadBytes} of payload`;
  }
  return result;
}
