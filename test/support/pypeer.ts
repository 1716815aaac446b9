// Python peers, for what Node cannot do: TCP_DEFER_ACCEPT on a listener, and plain blocking
// recv()/sendall() (an unexpected EAGAIN or EACCES surfaces as an exception, reported as an error).
// Run with `python3 -c PY_PEER <mode> ...`; prints LISTENING/CONNECTED/... lines and one RESULT json.
import { spawnSync } from 'node:child_process';
import { need } from './tools.js';

export const PY_PEER = String.raw`
import errno, hashlib, json, os, random, select, socket, struct, sys, time

REC = 64
def rec(i):
    body = hashlib.sha256(b'rec%d' % i).digest()
    return struct.pack('!I', i) + body + body[:28]

def say(*a):
    print(*a, flush=True)

def result(d, ok):
    say('RESULT ' + json.dumps(d))
    sys.exit(0 if ok else 1)

STAGE = ['start']
def stage(s):
    STAGE[0] = s

def err(e):
    if isinstance(e, OSError) and e.errno is not None:
        return errno.errorcode.get(e.errno, str(e.errno))
    return repr(e)

USE_POLL = [False]
def wait_readable(c):
    # poll() before each recv: how event-driven applications read (a spurious wakeup is then
    # invisible, as it is for Node). Still a blocking socket: EAGAIN after POLLIN is an error.
    if USE_POLL[0]:
        p = select.poll()
        p.register(c, select.POLLIN)
        p.poll()

def read_to_eof(c, on_data):
    while True:
        wait_readable(c)
        d = c.recv(65536)
        if not d:
            return
        on_data(d)

def check_records(buf, first=0):
    n = len(buf) // REC
    bad = None
    for i in range(n):
        if buf[i*REC:(i+1)*REC] != rec(first + i):
            got = struct.unpack('!I', buf[i*REC:i*REC+4])[0]
            bad = {'index': i, 'gotSeq': got}
            break
    return n, bad, len(buf) % REC

def send_records(c, first, count, per_send):
    i = first
    while i < first + count:
        k = min(per_send, first + count - i)
        c.sendall(b''.join(rec(j) for j in range(i, i + k)))
        i += k

def listen(port, defer_accept=False):
    # One listening socket on 127.0.0.1:port, announced to the test with LISTENING.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if defer_accept:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 5)
    s.bind(('127.0.0.1', port))
    s.listen(8)
    say('LISTENING', port)
    return s

def accept(s):
    stage('accept')
    c, _ = s.accept()
    return c

mode = sys.argv[1]
port = int(sys.argv[2])
out = {'mode': mode}
try:
    if mode == 'defer-server':
        n_reply = int(sys.argv[3])
        s = listen(port, defer_accept=True)
        stage('wait for go')
        sys.stdin.readline()            # the test says when to accept
        c = accept(s)
        say('ACCEPTED')
        stage('send A')
        c.sendall(b'A')                 # tell the client it may send the rest
        buf = bytearray()
        stage('recv records to EOF')
        read_to_eof(c, buf.extend)
        n, bad, tail = check_records(bytes(buf))
        out.update(records=n, bad=bad, tail=tail, bytes=len(buf))
        stage('send reply records')
        send_records(c, 0, n_reply, 32)
        c.shutdown(socket.SHUT_WR)
        c.close()
        result(out, bad is None and tail == 0)
    elif mode == 'defer-client':
        n1, n2, per_send = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        USE_POLL[0] = len(sys.argv) > 6 and sys.argv[6] == 'poll'
        stage('connect')
        c = socket.create_connection(('127.0.0.1', port))
        stage('send part 1')
        send_records(c, 0, n1, per_send)
        say('PART1_SENT')
        stage('recv A (blocking)')
        wait_readable(c)
        a = c.recv(1)
        if a != b'A':
            raise RuntimeError('expected A, got %r' % a)
        stage('send part 2')
        send_records(c, n1, n2, per_send)
        c.shutdown(socket.SHUT_WR)
        buf = bytearray()
        stage('recv reply to EOF (blocking)')
        read_to_eof(c, buf.extend)
        c.close()
        n, bad, tail = check_records(bytes(buf))
        out.update(sent=n1 + n2, replyRecords=n, bad=bad, tail=tail)
        result(out, bad is None and tail == 0)
    elif mode == 'recv-server':
        s = listen(port)
        c = accept(s)
        c.setblocking(True)
        if len(sys.argv) > 3:
            time.sleep(int(sys.argv[3]) / 1000.0)   # let the client block in recv() meanwhile
        stage('recv to EOF (blocking)')
        h = hashlib.sha256()
        count = [0]
        def on(d):
            count[0] += len(d)
            h.update(d)
        read_to_eof(c, on)
        out.update(bytes=count[0], sha256=h.hexdigest())
        stage('send OK reply')
        c.sendall(('OK %d %s\n' % (count[0], out['sha256'])).encode())
        c.shutdown(socket.SHUT_WR)
        c.close()
        result(out, True)
    elif mode == 'paced-client':
        total, chunk, interval_ms, seed = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
        stage('connect')
        c = socket.create_connection(('127.0.0.1', port))
        c.setblocking(True)
        say('CONNECTED')
        stage('paced sendall')
        rnd = random.Random(seed)
        h = hashlib.sha256()
        sent = 0
        while sent < total:
            n = min(chunk, total - sent)
            d = rnd.randbytes(n)
            h.update(d)
            c.sendall(d)
            sent += n
            time.sleep(interval_ms / 1000.0)
        say('SENT_ALL')
        c.shutdown(socket.SHUT_WR)
        # poll() first: after our own shutdown(SHUT_WR) a bare blocking recv() on a socket still in
        # the map can return EAGAIN (the kernel's; the half-close rescue and the policy deal with it,
        # tested in concurrency and safety); this peer is here to test down, not that.
        USE_POLL[0] = True
        stage('recv OK reply to EOF (poll, then blocking recv)')
        buf = bytearray()
        read_to_eof(c, buf.extend)
        c.close()
        out.update(sent=sent, sha256=h.hexdigest(), reply=buf.decode(errors='replace').strip())
        result(out, out['reply'] == 'OK %d %s' % (sent, out['sha256']))
    elif mode == 'sendfile-server':
        # Serves FILE with socket.sendfile() (os.sendfile: the zero-copy send path) to CONNS
        # connections in turn (default 1); reports the bytes sent on each.
        path = sys.argv[3]
        conns = int(sys.argv[4]) if len(sys.argv) > 4 else 1
        s = listen(port)
        sent = []
        for i in range(conns):
            c = accept(s)
            stage('sendfile #%d' % i)
            with open(path, 'rb') as f:
                sent.append(c.sendfile(f))
            c.shutdown(socket.SHUT_WR)
            c.close()
        out.update(sent=sent[-1], each=sent)
        result(out, True)
    elif mode == 'splice-server':
        # Reads CONNS connections in turn (default 1) to EOF with splice(socket -> pipe) (how Go's
        # io.Copy between TCP connections, HAProxy and others read), checksumming what comes out
        # of the pipe; bytes/sha256 are the last connection's, "each" lists all.
        conns = int(sys.argv[3]) if len(sys.argv) > 3 else 1
        s = listen(port)
        r, w = os.pipe()
        each = []
        for i in range(conns):
            c = accept(s)
            h = hashlib.sha256()
            total = 0
            stage('splice to EOF #%d' % i)
            while True:
                n = os.splice(c.fileno(), w, 65536)
                if n == 0:
                    break
                while n > 0:
                    d = os.read(r, n)
                    n -= len(d)
                    h.update(d)
                    total += len(d)
            c.close()
            each.append({'bytes': total, 'sha256': h.hexdigest()})
        out.update(each[-1])
        out.update(each=each)
        result(out, True)
    elif mode == 'sink-client':
        # Connects, reads to EOF with blocking recv(), reports count and sha256.
        stage('connect')
        c = socket.create_connection(('127.0.0.1', port))
        h = hashlib.sha256()
        count = [0]
        def on(d):
            count[0] += len(d)
            h.update(d)
        stage('recv to EOF (blocking)')
        read_to_eof(c, on)
        c.close()
        out.update(bytes=count[0], sha256=h.hexdigest())
        result(out, True)
    elif mode == 'source-client':
        # Connects, sends N deterministic pseudo-random bytes, closes; reports sha256.
        total, seed = int(sys.argv[3]), sys.argv[4]
        stage('connect')
        c = socket.create_connection(('127.0.0.1', port))
        rnd = random.Random(seed)
        h = hashlib.sha256()
        sent = 0
        stage('sendall')
        while sent < total:
            d = rnd.randbytes(min(262144, total - sent))
            h.update(d)
            c.sendall(d)
            sent += len(d)
        c.close()
        out.update(sent=sent, sha256=h.hexdigest())
        result(out, True)
    else:
        result({'error': 'unknown mode ' + mode}, False)
except SystemExit:
    raise
except BaseException as e:
    out['error'] = err(e)
    out['stage'] = STAGE[0]
    result(out, False)
`;

let py: string | undefined;
/** The real python3 executable (not a pyenv shim), so the pid we start is python's own. */
export function python3(): string {
  if (!py) {
    const r = spawnSync(need('python3'), ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`python3 (${need('python3')}) not usable: ${r.error?.message ?? r.stderr}`);
    py = r.stdout.trim();
  }
  return py;
}

/** argv for a python peer: [python3, '-c', PY_PEER, mode, ...args]. */
export function pyPeerArgs(mode: string, ...args: (string | number)[]): [string, string[]] {
  return [python3(), ['-c', PY_PEER, mode, ...args.map(String)]];
}
