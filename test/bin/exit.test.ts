/**
 * The bin's output arrives whole, also when stdout is a non-blocking pipe
 * that fills up: a deploy script piping bridgectl into a slow reader gets
 * every line, and the exit status.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderChannelBody } from '../../installer/render/channel.js';
import { spliceBlocks } from '../../installer/render/markers.js';
import { BIN, runMain } from '../helpers/cli.js';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { at, CHANNELS, SITE } from '../helpers/sandbox.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A site whose channels file lists `n` custom channels: `channel list` then prints well over a pipe's 64 KiB. */
async function bigSite(n: number): Promise<string> {
  const root = bridgeSandbox();
  const install = await runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root, '--no-reload']);
  expect(install.code).toBe(0);
  const file = at(root, CHANNELS);
  const blocks = Array.from({ length: n }, (_, i) => {
    const id = `custom-${String(i).padStart(5, '0')}`;
    return { id, body: renderChannelBody({ name: id, command: '/usr/local/bin/notify', args: ['--to', '{recipient}', '--text', '{message}', `--tag=${'x'.repeat(40)}`], detach: true, timeout: 600, env: [] }) };
  });
  writeFileSync(file, spliceBlocks(readFileSync(file, 'utf8'), blocks));
  return root;
}

/** Run the bin with stdout on a non-blocking FIFO nobody reads for `delayMs`, then read it all. */
async function runIntoSlowPipe(argv: string[], delayMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-fifo-'));
  try {
    const fifo = path.join(dir, 'out');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    // Node's spawn makes a child's stdio blocking again; perl (always there on
    // Debian: perl-base is essential) sets O_NONBLOCK back, then execs the bin.
    const nonBlocking = 'use Fcntl; fcntl(STDOUT, F_SETFL, fcntl(STDOUT, F_GETFL, 0) | O_NONBLOCK) or die "fcntl: $!"; exec @ARGV or die "exec: $!"';
    const child = spawn('perl', ['-e', nonBlocking, process.execPath, BIN, ...argv], { stdio: ['ignore', writer, 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    closeSync(writer);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await sleep(delayMs); // the pipe fills; the bin's writes must wait
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(65536);
    for (;;) {
      let n: number;
      try {
        n = readSync(reader, buf, 0, buf.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        await sleep(5);
        continue;
      }
      if (n === 0) break; // every writer closed: the bin has exited
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    closeSync(reader);
    return { code: await exited, stdout: Buffer.concat(chunks).toString('utf8'), stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

it('prints every byte and the exit status through a full, non-blocking pipe', async () => {
  const root = await bigSite(1500);
  const argv = ['channel', 'list', '--site', SITE, '--root', root];
  const expected = await runMain(argv);
  expect(expected.code).toBe(0);
  expect(Buffer.byteLength(expected.stdout)).toBeGreaterThan(2 * 65536);
  const r = await runIntoSlowPipe(argv, 300);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout.length).toBe(expected.stdout.length);
  expect(r.stdout).toBe(expected.stdout);
}, 30_000);

it('keeps a failing exit status', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'bridgectl-empty-'));
  try {
    const r = spawnSync(process.execPath, [BIN, 'upgrade', '--site', '/nowhere', '--root', root], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^bridgectl: /);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
