// The agent's HTTP endpoints: /metrics (Prometheus), /healthz (the agent is alive: liveness),
// /readyz (the install is up and the agent is not stopping: readiness). GET and HEAD only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { UsageError } from '../index.js';
import { CONTENT_TYPE } from './metrics.js';
import { formatListen } from './config.js';

export interface Endpoints {
  metrics(): string;
  /** [ok, one line saying why] */
  health(): [boolean, string];
  ready(): [boolean, string];
}

const INDEX = 'sockaccel-ffi agent: /metrics (Prometheus text format), /healthz (liveness), /readyz (readiness)\n';

function handle(e: Endpoints, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  const send = (code: number, type: string, body: string) => {
    res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(405, 'text/plain; charset=utf-8', 'only GET and HEAD\n');
  }
  try {
    if (path === '/metrics') return send(200, CONTENT_TYPE, e.metrics());
    if (path === '/healthz' || path === '/readyz') {
      const [ok, why] = path === '/healthz' ? e.health() : e.ready();
      return send(ok ? 200 : 503, 'text/plain; charset=utf-8', `${ok ? 'ok' : 'not ready'}: ${why}\n`);
    }
    if (path === '/') return send(200, 'text/plain; charset=utf-8', INDEX);
    return send(404, 'text/plain; charset=utf-8', `no ${path} here; ${INDEX}`);
  } catch (err) {
    return send(500, 'text/plain; charset=utf-8', `error: ${(err as Error).message}\n`);
  }
}

/** Listen on `at`; rejects with a UsageError naming the address when it cannot (in use, not ours). */
export function serve(e: Endpoints, at: { host: string; port: number }): Promise<Server> {
  const server = createServer((req, res) => handle(e, req, res));
  // Scrapes are short; don't let an idle keep-alive connection hold up the exit.
  server.keepAliveTimeout = 2000;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new UsageError('BAD_ARGUMENT', `cannot listen on ${formatListen(at)}: ${err.code ?? err.message}`, {
        hint: err.code === 'EADDRINUSE' ? 'another process (another agent?) listens there: give another --listen HOST:PORT' : 'give --listen HOST:PORT with an address of this machine',
        cause: err,
      }));
    });
    server.listen(at.port, at.host, () => {
      server.removeAllListeners('error');
      server.on('error', () => { /* per-connection errors are the client's */ });
      resolve(server);
    });
  });
}

/** Stop accepting, and close idle connections so the process can exit. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => { server.closeAllConnections(); }, 1000).unref();
  });
}
