// Python peers for the safety tests: the ways real programs read that sockmap serves badly (splice,
// blocking reads woken by a half-close or a signal, full-duplex blocking reads), each running many
// connections and checking every byte (sha256). Run with `python3 -c SAFETY_PEER MODE ARGS...`; a
// server prints LISTENING and one `CONN bytes sha256` line per connection; a client prints one RESULT
// json: {ok, errors: [...], conns}. An exception in a connection is an error, never swallowed.
import { python3 } from './pypeer.js';

export const SAFETY_PEER = String.raw`
import errno, hashlib, json, os, random, signal, socket, sys, threading, time

def say(*a):
    print(*a, flush=True)

def err(e):
    if isinstance(e, OSError) and e.errno is not None:
        return errno.errorcode.get(e.errno, str(e.errno))
    return repr(e)

def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', port))
    s.listen(64)
    say('LISTENING', port)
    return s

def read_to_eof(c, h):
    n = 0
    while True:
        d = c.recv(65536)
        if not d:
            return n
        h.update(d)
        n += len(d)

def splice_to_eof(c, h):
    r, w = os.pipe()
    n = 0
    try:
        while True:
            k = os.splice(c.fileno(), w, 65536)
            if k == 0:
                return n
            while k > 0:
                d = os.read(r, k)
                k -= len(d)
                h.update(d)
                n += len(d)
    finally:
        os.close(r); os.close(w)

def serve(port, handler):
    s = listen(port)
    def one(c):
        try:
            handler(c)
        except BaseException as e:
            say('ERROR', err(e))
        finally:
            c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()

def payload(seed, size):
    return random.Random(seed).randbytes(size)

def client_loop(n, one):
    errors, ok = [], 0
    for i in range(n):
        try:
            one(i)
            ok += 1
        except BaseException as e:
            errors.append({'conn': i, 'error': err(e)})
    say('RESULT ' + json.dumps({'ok': ok, 'errors': errors, 'conns': n}))
    sys.exit(0 if not errors else 1)

def recv_exact(c, n):
    buf = bytearray()
    while len(buf) < n:
        d = c.recv(n - len(buf))
        if not d:
            raise RuntimeError('EOF after %d of %d bytes' % (len(buf), n))
        buf.extend(d)
    return bytes(buf)

mode = sys.argv[1]
port = int(sys.argv[2])

if mode == 'sink-server':
    # Reads each connection to EOF (recv or splice), prints its count and sha256.
    how = sys.argv[3]
    def h(c):
        x = hashlib.sha256()
        n = splice_to_eof(c, x) if how == 'splice' else read_to_eof(c, x)
        say('CONN', n, x.hexdigest())
    serve(port, h)
elif mode == 'reply-server':
    # Reads each connection to EOF, waits delay ms, answers "OK count sha256", closes.
    delay = int(sys.argv[3]) / 1000.0
    def h(c):
        x = hashlib.sha256()
        n = read_to_eof(c, x)
        time.sleep(delay)
        c.sendall(('OK %d %s\n' % (n, x.hexdigest())).encode())
    serve(port, h)
elif mode == 'echo-server':
    def h(c):
        while True:
            d = c.recv(65536)
            if not d:
                return
            c.sendall(d)
    serve(port, h)
elif mode == 'rpc-server':
    size = int(sys.argv[3])
    def h(c):
        while True:
            try:
                q = recv_exact(c, size)
            except RuntimeError:
                return
            c.sendall(hashlib.sha256(q).digest() * (size // 32))
    serve(port, h)
elif mode == 'source-client':
    # n connections: sendall(size), close (no reply read).
    n, size = int(sys.argv[3]), int(sys.argv[4])
    def one(i):
        c = socket.create_connection(('127.0.0.1', port))
        c.sendall(payload(i, size))
        c.close()
        say('SENT', i, size, hashlib.sha256(payload(i, size)).hexdigest())
    client_loop(n, one)
elif mode == 'halfclose-client':
    # n connections: sendall(size), shutdown(SHUT_WR), then a BLOCKING recv() until EOF; the reply
    # must name what was sent. No timeout: an EAGAIN is an error (BlockingIOError).
    n, size = int(sys.argv[3]), int(sys.argv[4])
    def one(i):
        c = socket.create_connection(('127.0.0.1', port))
        d = payload(i, size)
        c.sendall(d)
        c.shutdown(socket.SHUT_WR)
        x = hashlib.sha256()
        buf = bytearray()
        while True:
            r = c.recv(65536)
            if not r:
                break
            buf.extend(r)
        c.close()
        want = 'OK %d %s' % (size, hashlib.sha256(d).hexdigest())
        if buf.decode().strip() != want:
            raise RuntimeError('reply %r, want %r' % (buf[:80], want))
    client_loop(n, one)
elif mode == 'duplex-client':
    # n connections: a writer thread sends size bytes while this thread does BLOCKING reads of the
    # echo; both halves checked.
    n, size = int(sys.argv[3]), int(sys.argv[4])
    def one(i):
        c = socket.create_connection(('127.0.0.1', port))
        d = payload(i, size)
        failed = []
        def writer():
            try:
                for k in range(0, size, 4096):
                    c.sendall(d[k:k + 4096])
            except BaseException as e:
                failed.append(err(e))
        t = threading.Thread(target=writer)
        t.start()
        got = recv_exact(c, size)
        t.join()
        c.close()
        if failed:
            raise RuntimeError('writer: ' + failed[0])
        if got != d:
            raise RuntimeError('echo differs')
    client_loop(n, one)
elif mode == 'signal-client':
    # A process taking signals (SIGALRM every ms, with a handler) while it does BLOCKING reads:
    # n connections of rounds request/response exchanges.
    n, size, rounds = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    ticks = [0]
    def on_alarm(sig, frame):
        ticks[0] += 1
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
    def one(i):
        c = socket.create_connection(('127.0.0.1', port))
        for k in range(rounds):
            q = payload(i * 1000 + k, size)
            c.sendall(q)
            a = recv_exact(c, size)
            if a != hashlib.sha256(q).digest() * (size // 32):
                raise RuntimeError('reply %d differs' % k)
        c.close()
    client_loop(n, one)
else:
    say('RESULT ' + json.dumps({'ok': 0, 'errors': [{'error': 'unknown mode ' + mode}], 'conns': 0}))
    sys.exit(1)
`;

/** argv for a safety peer: [python3, ['-c', SAFETY_PEER, mode, ...args]]. */
export function safetyPeerArgs(mode: string, ...args: (string | number)[]): [string, string[]] {
  return [python3(), ['-c', SAFETY_PEER, mode, ...args.map(String)]];
}

export interface ClientResult { ok: number; errors: { conn?: number; error: string }[]; conns: number }

/** The RESULT line of a client's stdout. */
export function clientResult(stdout: string): ClientResult {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) return { ok: 0, errors: [{ error: `no RESULT line in: ${stdout.slice(-400)}` }], conns: 0 };
  return JSON.parse(line.slice(7)) as ClientResult;
}

/** The CONN lines of a sink server: [bytes, sha256] per connection. */
export function serverConns(stdout: string): { bytes: number; sha256: string }[] {
  return stdout.split('\n').filter((l) => l.startsWith('CONN ')).map((l) => {
    const [, bytes, sha256] = l.split(' ');
    return { bytes: Number(bytes), sha256: sha256! };
  });
}
