/**
 * What every run over a site reads, named before its first gather round
 * (facts/gather.ts): each item a stage asks for that the snapshot lacks
 * costs one more round of the whole stage (at 1,000 channel blocks, ~10 ms
 * each). upgrade, install, uninstall, channel set/remove and check use it.
 */
import { posix } from 'node:path';
import { bridges } from '../../bridges/index.js';
import { channelsFile, hopPaths, transportFile } from '../lib/paths.js';
import type { FactItem } from '../model/errors.js';
import { serviceFile } from '../render/units.js';

/** The channels and transport files, each bridge's systemd units, sudo hop and secret file, passwd and groups. */
export function prefetchFor(site: string): FactItem[] {
  const items: FactItem[] = [{ kind: 'passwd' }, { kind: 'group' }];
  const file = (p: string, ...kinds: ('stat' | 'lstat' | 'text')[]): void => {
    for (const kind of kinds) items.push({ kind, path: p });
  };
  file(channelsFile(site), 'lstat', 'text', 'stat');
  file(transportFile(site), 'text', 'stat');
  for (const bridge of bridges) {
    for (const unit of bridge.units) file(serviceFile('systemd', unit, '/'), 'text', 'stat');
    // Every bridge's, sudo hop or not: planning looks for a stale hop to remove.
    for (const p of Object.values(hopPaths(bridge.id))) file(p, 'text', 'lstat');
    if (bridge.secret) {
      file(bridge.secret.file.path, 'text', 'stat');
      file(posix.dirname(bridge.secret.file.path), 'stat');
    }
  }
  return items;
}
