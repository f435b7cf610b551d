/**
 * A minimal FastCGI client (one request, one connection): enough to ask a
 * php-fpm started by a test to run a script, without nginx or cgi-fcgi.
 * Records: version 1, type, request id 1, content length, padding 0.
 */
import { connect } from 'node:net';

const BEGIN_REQUEST = 1;
const END_REQUEST = 3;
const PARAMS = 4;
const STDIN = 5;
const STDOUT = 6;

function record(type: number, content: Buffer): Buffer {
  const header = Buffer.from([1, type, 0, 1, (content.length >> 8) & 0xff, content.length & 0xff, 0, 0]);
  return Buffer.concat([header, content]);
}

function nameValue(name: string, value: string): Buffer {
  const len = (n: number): Buffer => (n < 128 ? Buffer.from([n]) : Buffer.from([((n >> 24) & 0x7f) | 0x80, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]));
  return Buffer.concat([len(Buffer.byteLength(name)), len(Buffer.byteLength(value)), Buffer.from(name), Buffer.from(value)]);
}

/** Run `script` through the FastCGI socket; resolves with the response body (headers stripped). */
export function fastcgiGet(socket: string, script: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`FastCGI request to ${socket} timed out`));
    }, timeoutMs);
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.on('connect', () => {
      const params = Buffer.concat(
        Object.entries({ SCRIPT_FILENAME: script, SCRIPT_NAME: '/t.php', REQUEST_METHOD: 'GET', SERVER_PROTOCOL: 'HTTP/1.1', GATEWAY_INTERFACE: 'CGI/1.1', REQUEST_URI: '/t.php', QUERY_STRING: '' }).map(([k, v]) =>
          nameValue(k, v),
        ),
      );
      conn.write(
        Buffer.concat([
          record(BEGIN_REQUEST, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0])), // role responder, no keep-alive
          record(PARAMS, params),
          record(PARAMS, Buffer.alloc(0)),
          record(STDIN, Buffer.alloc(0)),
        ]),
      );
    });
    conn.on('data', (d: Buffer) => chunks.push(d));
    conn.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      let out = Buffer.alloc(0);
      let ended = false;
      for (let at = 0; at + 8 <= all.length; ) {
        const type = all[at + 1] ?? 0;
        const length = ((all[at + 4] ?? 0) << 8) | (all[at + 5] ?? 0);
        const padding = all[at + 6] ?? 0;
        if (type === STDOUT) out = Buffer.concat([out, all.subarray(at + 8, at + 8 + length)]);
        if (type === END_REQUEST) ended = true;
        at += 8 + length + padding;
      }
      if (!ended) return reject(new Error(`FastCGI: no END_REQUEST from ${socket}`));
      const text = out.toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      resolve(split >= 0 ? text.slice(split + 4) : text);
    });
  });
}
