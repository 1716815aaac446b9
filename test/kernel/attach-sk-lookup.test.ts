// sk_lookup on a network namespace made here: connections to ports 7000–7009, where nothing
// listens, are steered to one listening socket (put in a SOCKMAP) — proven by the bytes the client
// sent arriving on our server with the original destination port; detached, they are refused.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { attachSkLookup, NetnsLink, UsageError, type LoadedProgram } from '../../src/index.js';
import { inNetns } from '../../src/sys/netns.js';
import { bindSocket, encodeSockaddrIn, listenSocket, openSocket } from '../../src/sys/socket.js';
import { AddressFamily, SocketType } from '../../src/uapi/attach.js';
import { run } from '../support/proc.js';
import { Scope } from '../support/scope.js';
import { loadFixture } from './attach-helpers.js';

const t = suite('attach: sk_lookup');

/** A one-line python client inside the namespace: connect to 127.0.0.1:port, send `text`, print what happened. */
async function client(ns: string, port: number, text: string): Promise<string> {
  const code = `import socket\ntry:\n  s = socket.create_connection(("127.0.0.1", ${port}), timeout=3); s.sendall(b"${text}"); s.close(); print("sent")\nexcept OSError as e:\n  print("error", e.errno)`;
  const r = await run('python3', ['-c', code], { netns: ns, timeoutMs: 10_000 });
  return r.stdout.trim();
}

t('connections to unused ports reach the socket in the map, keeping their destination port; close() ends it', async () => {
  const scope = new Scope('sklookup');
  const f = loadFixture('attach_net.bpf.o', ['steer'], { steer_from: 7000 });
  try {
    const ns = scope.netns('sklookup');
    // The listener lives in the namespace: made there (this thread, for a moment), served by Node here.
    const listener = inNetns(ns, () => {
      const s = openSocket(AddressFamily.INET, SocketType.STREAM | SocketType.CLOEXEC | SocketType.NONBLOCK, 0, 'listener');
      bindSocket(s, encodeSockaddrIn('127.0.0.1', 8000), 'listener 127.0.0.1:8000');
      listenSocket(s, 16, 'listener');
      return s;
    });
    const key = Buffer.alloc(4);
    const value = Buffer.alloc(8);
    value.writeBigUInt64LE(BigInt(listener.value));
    f.loaded.maps.get('steer_map')!.update(key, value);
    const received: { port: number; data: string }[] = [];
    const server = createServer((c: Socket) => {
      let data = '';
      c.on('data', (d) => { data += d; });
      c.on('end', () => { received.push({ port: c.localPort!, data }); c.end(); });
    });
    server.listen({ fd: listener.value });
    await once(server, 'listening');
    scope.defer('close the server', () => new Promise<void>((r) => server.close(() => r())));

    assert.match(await client(ns, 7003, 'before'), /^error 111/, 'nothing listens on 7003: refused');
    const link = attachSkLookup(f.loaded.programs.get('steer') as LoadedProgram, ns);
    assert.instance(link, NetnsLink);
    assert.is(link.info().detail.attachType, 36, 'SK_LOOKUP on a netns');
    assert.is(await client(ns, 7003, 'hello'), 'sent');
    assert.is(await client(ns, 7009, 'again'), 'sent');
    assert.match(await client(ns, 7010, 'outside'), /^error 111/, 'outside the range: not steered');
    const deadline = Date.now() + 3000;
    while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(received.sort((a, b) => a.port - b.port), [{ port: 7003, data: 'hello' }, { port: 7009, data: 'again' }]);
    // At least once per connection: a SYN retransmitted on a slow machine (TCG) runs the lookup again,
    // and what arrived (above) is the exact check.
    const steered = Number(f.get('steered'));
    assert.ok(steered >= 2 && steered <= 4, `steered ${steered} times for 2 connections`);
    link.close();
    assert.match(await client(ns, 7003, 'after'), /^error 111/, 'detached: refused again');
  } finally {
    f.close();
    await scope.close();
  }
});

t('by section it attaches to the namespace it is called in unless told; other programs are refused', async () => {
  const scope = new Scope('sklookup2');
  const f = loadFixture('attach_net.bpf.o', ['steer', 'sock_trim']);
  try {
    const ns = scope.netns('sklookup2');
    const link = inNetns(ns, () => (f.loaded.programs.get('steer') as LoadedProgram).attach());
    assert.instance(link, NetnsLink);
    assert.match(link.description, /this network namespace/);
    assert.is((link as NetnsLink).info().detail.netnsIno, statSync(`/run/netns/${ns}`).ino, 'the link is on the namespace entered, not ours');
    assert.is.not(statSync(`/run/netns/${ns}`).ino, statSync('/proc/self/ns/net').ino);
    link.close();
    assert.throws(() => attachSkLookup(f.loaded.programs.get('sock_trim')!, 1), (e: unknown) => e instanceof UsageError && /not an sk_lookup program/.test(e.message));
    assert.throws(() => attachSkLookup(f.loaded.programs.get('steer')!, 'no-such-netns-here'), (e: unknown) => e instanceof UsageError && e.code === 'BAD_PATH' && /ip netns add/.test(e.hint ?? ''));
  } finally {
    f.close();
    await scope.close();
  }
});

t.run();
