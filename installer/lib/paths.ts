/**
 * Where bridgectl's own files are, and where the server's files are.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RenderError } from '../model/errors.js';
import type { HopPaths } from '../model/sudo.js';

/**
 * The directory holding our package.json, found by walking up from this
 * module, so it is the same from ts-node (installer/) and the bundle (dist/).
 */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('bridgectl: cannot find its own package.json');
    dir = parent;
  }
  return dir;
}

/** The one way to find a template. */
export function templatePath(name: string): string {
  return path.join(packageRoot(), 'templates', name);
}

/**
 * A server path (as written into files) resolved under --root (as touched on
 * disk). `onHost('/sandbox', '/etc/passwd')` → `/sandbox/etc/passwd`.
 */
export function onHost(root: string, serverPath: string): string {
  if (!path.posix.isAbsolute(serverPath)) {
    throw new Error(`internal: expected an absolute server path, got ${JSON.stringify(serverPath)}`);
  }
  return root === '/' ? serverPath : path.join(root, serverPath);
}

/** The managed mu-plugin files, as the server sees them. */
export function channelsFile(site: string): string {
  return path.posix.join(site, 'wp-content/mu-plugins/wp-coding-agents-channels.php');
}

export function transportFile(site: string): string {
  return path.posix.join(site, 'wp-content/mu-plugins/wp-coding-agents-cli-transport.php');
}

/** A block id, and so a bridge id: the sudo hop's file names are made from it. */
export const BLOCK_ID = /^[a-z0-9][a-z0-9_-]*$/;

export const HOP_LIB_DIR = '/usr/local/lib/bridgectl';

/** The three files, from fixed parts and the bridge id only. */
export function hopPaths(bridgeId: string): HopPaths {
  // BLOCK_ID has no '.', '~' or '/': Debian's @includedir skips names with a
  // '.' or a trailing '~', which would silently disable the grant.
  if (!BLOCK_ID.test(bridgeId)) throw new RenderError(`invalid bridge id ${JSON.stringify(bridgeId)} for the sudo hop`);
  return {
    target: `${HOP_LIB_DIR}/${bridgeId}-dispatch-target`,
    wrapper: `/usr/local/bin/bridgectl-${bridgeId}-dispatch`,
    sudoers: `/etc/sudoers.d/bridgectl-${bridgeId}`,
  };
}

/** Whether a server path is one of some bridge's hop files (held back until PHP-FPM reloads: php-fpm.ts). */
export function isHopPath(serverPath: string): boolean {
  const id = /^(?:\/usr\/local\/bin\/bridgectl-(.+)-dispatch|\/usr\/local\/lib\/bridgectl\/(.+)-dispatch-target|\/etc\/sudoers\.d\/bridgectl-(.+))$/.exec(serverPath);
  const bridgeId = id?.[1] ?? id?.[2] ?? id?.[3];
  return bridgeId !== undefined && BLOCK_ID.test(bridgeId) && Object.values(hopPaths(bridgeId)).includes(serverPath);
}
