import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from './paths.js';

// The bundle has the version inlined at build time (scripts/build.mjs);
// from source (ts-node, jest) it is read from package.json.
declare const BRIDGECTL_VERSION: string | undefined;

export const VERSION: string =
  typeof BRIDGECTL_VERSION === 'string'
    ? BRIDGECTL_VERSION
    : (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
