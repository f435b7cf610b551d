/**
 * Where bridgectl's own files are, and where the server's files are.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
