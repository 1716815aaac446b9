// The Node peer: run as `node dist/test/support/peer.js server|client [--opts]` (process.execPath).
// Prints `LISTENING <port>` (server) and one final `RESULT <json>` line; exits 0 when everything
// it did succeeded, 1 otherwise, 2 on its own timeout.
//
// Modes (--mode):
//  halfclose  client sends a header then its payload, shutdown(SHUT_WR); the server reads to EOF,
//             replies with sha256 + byte count of what it got, then its own payload, and closes;
//             the client reads to EOF and checks both.
//             header: 'SAE1' | replyBytes u32be | connId u32be | seedLen u16be | seed utf8
//  echo       the server echoes every byte back as it arrives and closes when the client has;
//             the client writes and reads at the same time and checks the echo.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { payloadChunks, payloadSha256 } from './payload.js';

type Args = Record<string, string>;

function parseArgs(argv: string[]): Args {
  const a: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (!k.startsWith('--')) throw new Error(`bad argument ${k}`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) a[k.slice(2)] = 'true';
    else { a[k.slice(2)] = next; i++; }
  }
  return a;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function finish(result: unknown, ok: boolean): never {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(ok ? 0 : 1));
  // process.exit happens in the write callback; keep the type checker happy.
  return undefined as never;
}

/** Write a generated payload with backpressure; resolves when all is handed to the socket. */
async function writePayload(sock: net.Socket, seed: string, size: number): Promise<void> {
  for (const chunk of payloadChunks(seed, size)) {
    if (sock.destroyed) throw new Error('socket destroyed while writing');
    if (!sock.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onErr = (e: Error) => { sock.off('drain', onDrain); reject(e); };
        const onDrain = () => { sock.off('error', onErr); resolve(); };
        sock.once('drain', onDrain);
        sock.once('error', onErr);
      });
    }
  }
}

function errCode(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ?? err?.message ?? String(e);
}

// ---------------------------------------------------------------- server
interface ServerConnResult {
  id: number;
  bytes: number;
  sha256: string;
  replyBytes: number;
  replySha256?: string;
  error?: string;
}

async function server(a: Args): Promise<void> {
  const mode = a.mode ?? 'halfclose';
  const conns = Number(a.conns ?? 1);
  const results: ServerConnResult[] = [];
  let finished = 0;
  let seq = 0;
  const srv = net.createServer({ allowHalfOpen: true }, (sock) => {
    const r: ServerConnResult = { id: seq++, bytes: 0, sha256: '', replyBytes: 0 };
    results.push(r);
    const hash = createHash('sha256');
    let header: Buffer | undefined;
    let pending = Buffer.alloc(0);
    let replyBytes = 0;
    let seed = '';
    let done = false;
    const complete = (err?: unknown) => {
      if (done) return;
      done = true;
      if (err) r.error = errCode(err);
      if (!r.sha256) r.sha256 = hash.digest('hex');
      if (++finished >= conns) {
        srv.close();
        finish({ mode, results }, results.every((x) => !x.error));
      }
    };
    sock.on('error', (e) => { complete(e); sock.destroy(); });
    if (mode === 'echo') {
      sock.on('data', (d: Buffer) => { r.bytes += d.length; hash.update(d); });
      sock.pipe(sock);
      sock.on('close', () => complete());
      return;
    }
    sock.on('data', (d: Buffer) => {
      if (!header) {
        pending = Buffer.concat([pending, d]);
        if (pending.length < 14) return;
        const seedLen = pending.readUInt16BE(12);
        if (pending.length < 14 + seedLen) return;
        if (pending.toString('latin1', 0, 4) !== 'SAE1') { complete(new Error('bad header')); sock.destroy(); return; }
        header = pending.subarray(0, 14 + seedLen);
        replyBytes = pending.readUInt32BE(4);
        r.id = pending.readUInt32BE(8);
        seed = pending.toString('utf8', 14, 14 + seedLen);
        d = pending.subarray(14 + seedLen);
      }
      r.bytes += d.length;
      hash.update(d);
    });
    sock.on('end', async () => {
      // The client has half-closed: answer, then close our side.
      try {
        r.sha256 = hash.digest('hex');
        const head = Buffer.alloc(40);
        Buffer.from(r.sha256, 'hex').copy(head, 0);
        head.writeBigUInt64BE(BigInt(r.bytes), 32);
        sock.write(head);
        await writePayload(sock, `${seed}-reply`, replyBytes);
        r.replyBytes = replyBytes;
        sock.end();
      } catch (e) {
        complete(e);
      }
    });
    sock.on('close', () => complete(header || mode !== 'halfclose' ? undefined : new Error('closed before header')));
  });
  srv.on('error', (e) => finish({ mode, error: errCode(e), results }, false));
  const port = Number(a.port);
  srv.listen({ host: a.host ?? '127.0.0.1', port, ipv6Only: false }, () => {
    process.stdout.write(`LISTENING ${(srv.address() as net.AddressInfo).port}\n`);
  });
  setTimeout(() => finish({ mode, error: 'timeout', results }, false), Number(a['timeout-ms'] ?? 60_000)).unref();
}

// ---------------------------------------------------------------- client
interface ClientConnResult {
  id: number;
  sent: number;
  sentSha256: string;
  /** What the server says it received (halfclose) or what came back (echo). */
  peerBytes?: number;
  peerSha256?: string;
  replyBytes?: number;
  replySha256?: string;
  expectedReplySha256?: string;
  ok: boolean;
  error?: string;
  /** lo tx_bytes growth during this connection's exchange (--lo-file, sequential mode). */
  lo?: number;
}

/** Connection i binds local port --local-port + i when --local-port is given. */
function connect(a: Args, i = 0): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const opts: net.NetConnectOpts = { host: a.host ?? '127.0.0.1', port: Number(a.port), allowHalfOpen: true };
    if (a['local-port']) Object.assign(opts, { localPort: Number(a['local-port']) + i, localAddress: a['local-address'] ?? a.host ?? '127.0.0.1' });
    const s = net.connect(opts);
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

async function exchange(sock: net.Socket, a: Args, id: number, size: number, replySize: number): Promise<ClientConnResult> {
  const mode = a.mode ?? 'halfclose';
  const seed = `${a.seed ?? 'seed'}-${id}`;
  const r: ClientConnResult = { id, sent: size, sentSha256: payloadSha256(seed, size), ok: false };
  const hash = createHash('sha256');
  let got = 0;
  let head = Buffer.alloc(0);
  const eof = new Promise<void>((resolve, reject) => {
    sock.on('data', (d: Buffer) => {
      if (mode === 'halfclose' && head.length < 40) {
        const need = 40 - head.length;
        head = Buffer.concat([head, d.subarray(0, need)]);
        d = d.subarray(need);
      }
      got += d.length;
      hash.update(d);
    });
    sock.once('end', () => resolve());
    sock.once('error', reject);
    sock.once('close', () => resolve());
  });
  try {
    if (mode === 'halfclose') {
      const seedBuf = Buffer.from(seed, 'utf8');
      const h = Buffer.alloc(14);
      h.write('SAE1', 0, 'latin1');
      h.writeUInt32BE(replySize, 4);
      h.writeUInt32BE(id, 8);
      h.writeUInt16BE(seedBuf.length, 12);
      sock.write(Buffer.concat([h, seedBuf]));
    }
    await writePayload(sock, seed, size);
    sock.end(); // shutdown(SHUT_WR)
    await eof;
    const sha = hash.digest('hex');
    if (mode === 'halfclose') {
      if (head.length === 40) {
        r.peerSha256 = head.subarray(0, 32).toString('hex');
        r.peerBytes = Number(head.readBigUInt64BE(32));
      }
      r.replyBytes = got;
      r.replySha256 = sha;
      r.expectedReplySha256 = payloadSha256(`${seed}-reply`, replySize);
      r.ok = r.peerSha256 === r.sentSha256 && r.peerBytes === size && got === replySize && sha === r.expectedReplySha256;
    } else {
      r.peerBytes = got;
      r.peerSha256 = sha;
      r.ok = got === size && sha === r.sentSha256;
    }
  } catch (e) {
    r.error = errCode(e);
  } finally {
    sock.destroy();
  }
  return r;
}

function csv(s: string | undefined, dflt: number[]): number[] {
  return s ? s.split(',').map(Number) : dflt;
}

async function client(a: Args): Promise<void> {
  const conns = Number(a.conns ?? 1);
  const sizes = csv(a.sizes, [65536]);
  const replySizes = csv(a['reply-sizes'], [0]);
  setTimeout(() => finish({ error: 'timeout' }, false), Number(a['timeout-ms'] ?? 60_000)).unref();
  const results: ClientConnResult[] = [];
  const loFile = a['lo-file'];
  const lo = () => (loFile ? Number(readFileSync(loFile, 'utf8').trim()) : 0);
  if (a.sequential === 'true') {
    // Open every connection first (one at a time, so the order they reach the map is known), keep
    // them all open, then exchange on each in turn, measuring lo around each exchange.
    const socks: net.Socket[] = [];
    for (let i = 0; i < conns; i++) {
      socks.push(await connect(a, i));
      await sleep(Number(a['connect-gap-ms'] ?? 50));
    }
    process.stdout.write(`CONNECTED ${conns}\n`);
    if (a['wait-stdin'] === 'true') await new Promise((r) => process.stdin.once('data', r));
    for (let i = 0; i < conns; i++) {
      const before = lo();
      const r = await exchange(socks[i]!, a, i, sizes[i % sizes.length]!, replySizes[i % replySizes.length]!);
      await sleep(20); // let the FIN exchange finish on lo
      if (loFile) r.lo = lo() - before;
      results.push(r);
    }
  } else {
    if (a['wait-stdin'] === 'true') {
      process.stdout.write('READY\n');
      await new Promise((r) => process.stdin.once('data', r));
    }
    const all = Array.from({ length: conns }, async (_, i) => {
      try {
        return await exchange(await connect(a, i), a, i, sizes[i % sizes.length]!, replySizes[i % replySizes.length]!);
      } catch (e) {
        return { id: i, sent: 0, sentSha256: '', ok: false, error: errCode(e) } as ClientConnResult;
      }
    });
    results.push(...(await Promise.all(all)));
  }
  finish({ results }, results.every((r) => r.ok));
}

const [verb, ...rest] = process.argv.slice(2);
const args = parseArgs(rest);
if (verb === 'server') void server(args);
else if (verb === 'client') void client(args);
else {
  process.stderr.write(`usage: peer.js server|client --port P [...]\n`);
  process.exit(64);
}
