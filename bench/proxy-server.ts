/**
 * Benchmark reference: the cheapest extra hop this machine can make, a node:http proxy that passes
 * every request to the benchmark upstream and its answer back, checking and recording nothing. The
 * gateway benchmark measures it next to Gatehouse, so the latency one more HTTP hop costs on this
 * machine (two more socket writes and reads, HTTP parsing both ways) is seen apart from what
 * Gatehouse itself adds.
 *
 * Bodies are read whole and written with one `end()` each way, as Gatehouse does; a GET (the
 * standalone event stream) is piped as it flows. Run as a child by gateway.bench.ts:
 *   node dist/bench/proxy-server.js <upstream URL>   prints `PROXY_READY http://127.0.0.1:<port>/mcp`
 */
import {
  Agent,
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import type { AddressInfo } from 'node:net';

const target = new URL(process.argv[2] ?? '');
if (target.protocol !== 'http:') throw new Error('usage: proxy-server.js <http upstream URL>');
const agent = new Agent({ keepAlive: true, noDelay: true });
/** Hop-by-hop headers (RFC 9110 section 7.6.1) are the proxy's own, never forwarded. */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

function forwarded(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
}

function readAll(msg: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    msg.on('data', (c: Buffer) => chunks.push(c));
    msg.once('end', () => resolve(Buffer.concat(chunks)));
    msg.once('error', reject);
  });
}

const server = createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
  const fail = (err: Error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`proxy: ${err.message}`);
  };
  readAll(req).then((body) => {
    const headers = { ...forwarded(req.headers), 'content-length': String(body.length) };
    const up = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: req.method,
        headers,
      },
      (ur) => {
        const status = ur.statusCode ?? 502;
        if (req.method === 'GET') {
          res.writeHead(status, forwarded(ur.headers));
          ur.pipe(res);
          return;
        }
        readAll(ur).then((answer) => {
          res.writeHead(status, {
            ...forwarded(ur.headers),
            'content-length': String(answer.length),
          });
          res.end(answer);
        }, fail);
      },
    );
    up.once('error', fail);
    // A client that goes away mid-call takes its upstream request with it.
    res.once('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.end(body);
  }, fail);
});

// Never outlive the benchmark.
const shutdown = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
process.once('disconnect', shutdown);

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`PROXY_READY http://127.0.0.1:${port}/mcp\n`);
});
