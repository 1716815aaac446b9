// Socket filters on Node's own sockets, found by their addresses (no internal `_handle.fd`): a UDP
// receiver whose filter drops datagrams starting with 'D' and cuts the others to 4 bytes — proven by
// exactly what Node's 'message' events deliver — then SO_DETACH_BPF lets everything through again.
// Also: the fd found for a TCP net.Socket, a server, by number, and the refusals.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { attachSocketFilter, socketFd, SocketFilterAttachment, UsageError, type LoadedProgram } from '../../src/index.js';
import { sleep } from '../support/proc.js';
import { loadFixture } from './attach-helpers.js';

const t = suite('attach: socket filter');

async function udpPair(): Promise<{ rx: DgramSocket; tx: DgramSocket; got: string[]; send: (s: string) => Promise<void>; close: () => void }> {
  const rx = createSocket('udp4');
  const tx = createSocket('udp4');
  const got: string[] = [];
  rx.on('message', (m) => got.push(m.toString()));
  rx.bind(0, '127.0.0.1');
  await once(rx, 'listening');
  const port = rx.address().port;
  const send = (s: string) => new Promise<void>((res, rej) => tx.send(s, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
  return { rx, tx, got, send, close: () => { rx.close(); tx.close(); } };
}

/** Send `msgs` then a marker the filter keeps whole-ish, and wait until the marker arrives. */
async function deliver(p: Awaited<ReturnType<typeof udpPair>>, msgs: string[]): Promise<string[]> {
  const start = p.got.length;
  for (const m of msgs) await p.send(m);
  const deadline = Date.now() + 3000;
  while (p.got.length - start < msgs.filter((m) => !m.startsWith('D')).length && Date.now() < deadline) await sleep(10);
  await sleep(50);
  return p.got.slice(start);
}

t('a filter on a dgram.Socket drops and truncates what Node receives; detach() restores it', async () => {
  const f = loadFixture('attach_net.bpf.o', ['sock_trim']);
  const p = await udpPair();
  try {
    const a = attachSocketFilter(f.loaded.programs.get('sock_trim')!, p.rx);
    assert.instance(a, SocketFilterAttachment);
    assert.is(a.method, 'sockopt');
    assert.equal(await deliver(p, ['Drop me', 'Keep this one', 'Drop 2', 'Hello world']), ['Keep', 'Hell']);
    assert.is(f.get('sock_dropped'), 2);
    assert.is(f.get('sock_trimmed'), 2);
    assert.is(a.detach(), true);
    assert.equal(await deliver(p, ['Keep it all']), ['Keep it all'], 'detached: whole datagrams again');
    assert.is(a.detach(), false);
    assert.throws(() => a.pin('/sys/fs/bpf/x'), (e: unknown) => e instanceof UsageError && e.code === 'NOT_SUPPORTED');
  } finally {
    p.close();
    f.close();
  }
});

t('by section with { socket }, by fd number, and update() swapping the program in place', async () => {
  const f = loadFixture('attach_net.bpf.o', ['sock_trim']);
  const p = await udpPair();
  try {
    const prog = f.loaded.programs.get('sock_trim') as LoadedProgram;
    const fd = socketFd(p.rx);
    const a = prog.attach({ socket: fd }) as SocketFilterAttachment;
    assert.is(a.socketFd, fd);
    assert.equal(await deliver(p, ['Dx', 'abcdefgh']), ['abcd']);
    a.update(prog);
    assert.equal(await deliver(p, ['ijklmnop']), ['ijkl']);
    a.close();
    p.rx.close();
    assert.is(a.detach(), false, 'the socket is closed: nothing to detach');
  } finally {
    try { p.tx.close(); } catch { /* closed */ }
    f.close();
  }
});

t('socketFd finds a connected TCP net.Socket (and its server) by address, which its internal fd confirms', async () => {
  const server: Server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const client: Socket = connect((server.address() as { port: number }).port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = (await accepted) as [Socket];
  try {
    const internal = (s: unknown) => (s as { _handle: { fd: number } })._handle.fd;
    assert.is(socketFd(client), internal(client));
    assert.is(socketFd(peer), internal(peer));
    assert.is(socketFd(server), internal(server));
    assert.is.not(socketFd(client), socketFd(peer));
  } finally {
    client.destroy();
    peer.destroy();
    server.close();
  }
});

t('refusals: an unbound dgram socket, a non-socket fd, a program of another type', async () => {
  const f = loadFixture('attach_net.bpf.o', ['sock_trim', 'tc_drop']);
  const s = createSocket('udp4');
  try {
    assert.throws(() => attachSocketFilter(f.loaded.programs.get('sock_trim')!, s), (e: unknown) => e instanceof UsageError && /not bound yet/.test(e.message));
    assert.throws(() => attachSocketFilter(f.loaded.programs.get('sock_trim')!, 1), (e: unknown) => e instanceof UsageError && /fd 1 is not a socket/.test(e.message));
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    assert.throws(() => attachSocketFilter(f.loaded.programs.get('tc_drop')!, s), (e: unknown) => e instanceof UsageError && /not a socket filter program/.test(e.message));
  } finally {
    s.close();
    f.close();
  }
});

t.run();
