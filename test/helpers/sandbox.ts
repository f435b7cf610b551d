/**
 * Throwaway sandbox roots for I/O tests: a file tree from an object literal,
 * plus a standard server layout (passwd, group, homes, a site, a bridge
 * binary). Removed after each test.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const created: string[] = [];
afterEach(() => {
  while (created.length) rmSync(created.pop() as string, { recursive: true, force: true });
});

export type Tree = Record<string, string | { content: string; mode?: number }>;

export function sandbox(tree: Tree = {}): string {
  const root = mkdtempSync(path.join(tmpdir(), 'bridgectl-test-'));
  chmodSync(root, 0o755);
  created.push(root);
  writeTree(root, tree);
  return root;
}

export function writeTree(root: string, tree: Tree): void {
  for (const [rel, spec] of Object.entries(tree)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    const { content, mode } = typeof spec === 'string' ? { content: spec, mode: undefined } : spec;
    writeFileSync(file, content);
    if (mode !== undefined) chmodSync(file, mode);
  }
}

export const isRoot = process.getuid?.() === 0;
/** The service user's uid: a real other uid when we can chown, else ourselves. */
export const SVC_UID = isRoot ? 1001 : (process.getuid?.() ?? 1001);
export const SVC_GID = isRoot ? 1001 : (process.getgid?.() ?? 1001);

export const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
  `opencode:x:${SVC_UID}:${SVC_GID}:opencode:/home/opencode:/bin/bash`,
  'ghost:x:1500:1500:ghost:/home/ghost:/bin/bash',
  '',
].join('\n');

export const GROUP = ['root:x:0:', 'www-data:x:33:', `opencode:x:${SVC_GID}:`, ''].join('\n');

export const SITE = '/var/www/html';
export const CHANNELS = `${SITE}/wp-content/mu-plugins/wp-coding-agents-channels.php`;

/** A server: passwd/group, /root, /home/opencode owned by opencode, /var/www root-owned, a site, kimaki on the path. */
export function serverSandbox(extra: Tree = {}): string {
  const root = sandbox({
    'etc/passwd': PASSWD,
    'etc/group': GROUP,
    'usr/local/bin/kimaki': { content: '#!/bin/sh\nexit 0\n', mode: 0o755 },
    // A WordPress root, as resolveSite wants --site to be.
    'var/www/html/wp-config.php': "<?php\n// the sandbox site's config\n",
    ...extra,
  });
  for (const dir of ['root', 'home/opencode', 'var/www/html/wp-content', 'var/www/html/wp-includes']) mkdirSync(path.join(root, dir), { recursive: true });
  chmodSync(path.join(root, 'root'), 0o700);
  chmodSync(path.join(root, 'home/opencode'), 0o750);
  if (isRoot) chownSync(path.join(root, 'home/opencode'), SVC_UID, SVC_GID);
  return root;
}

/** Make a server directory under root a WordPress root (wp-config.php, wp-includes/, wp-content/), as resolveSite wants --site to be. */
export function wordpressSite(root: string, site: string): void {
  for (const dir of ['wp-includes', 'wp-content']) mkdirSync(path.join(root, site, dir), { recursive: true });
  writeFileSync(path.join(root, site, 'wp-config.php'), "<?php\n// a sandbox site's config\n");
}

export function at(root: string, serverPath: string): string {
  return path.join(root, serverPath);
}
