/**
 * The facts snapshot (installer/facts/snapshot.ts) and gather/refresh
 * (installer/facts/gather.ts): a pure stage never reads, gather reads each
 * item it asks for once, and refresh sees any answer that changed between
 * the plan and the lock.
 */
import { writeFileSync } from 'node:fs';
import { gather, refresh } from '../../installer/facts/gather.js';
import { nodeHost } from '../../installer/facts/host.js';
import { emptySnapshot, factsOf } from '../../installer/facts/snapshot.js';
import { MissingFacts } from '../../installer/model/errors.js';
import type { Facts } from '../../installer/model/facts.js';
import { main } from '../../installer/cli/cli.js';
import { planUpgrade } from '../../installer/cli/commands/upgrade.js';
import { prefetchFor } from '../../installer/cli/prefetch.js';
import { resolveSite } from '../../installer/identity/identity.js';
import { fakeHost, type FakeHostSpec } from '../helpers/fake-host.js';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { at, SITE } from '../helpers/sandbox.js';

/** Ask a fixed set of questions, the way a plan would. */
function askAll(facts: Facts): void {
  facts.readText('/etc/hostname');
  facts.readText('/etc/missing');
  facts.stat('/etc');
  facts.lstat('/etc/hostname');
  facts.listDir('/etc');
  facts.user('www-data');
  facts.groupIds(facts.user('www-data') ?? { name: 'x', uid: 1, gid: 1, home: '/', shell: '' });
}

/** A host that counts every question it answers, by question. */
function counting(spec: FakeHostSpec): { host: Facts; asked: string[] } {
  const inner = fakeHost(spec);
  const asked: string[] = [];
  const count = <A extends unknown[], R>(name: string, fn: (...a: A) => R) => (...a: A): R => (asked.push(`${name} ${a.join(' ')}`.trim()), fn(...a));
  const host: Facts = {
    ...inner,
    users: count('users', inner.users),
    groups: count('groups', inner.groups),
    stat: count('stat', inner.stat),
    lstat: count('lstat', inner.lstat),
    readText: count('readText', inner.readText),
    listDir: count('listDir', inner.listDir),
    readLink: count('readLink', inner.readLink),
  };
  return { host, asked };
}

const files = { '/etc/hostname': 'web1\n' };

describe('a stage over a snapshot', () => {
  it('never reads: a question the snapshot cannot answer throws MissingFacts naming it', () => {
    // A root that exists, holding a file: the snapshot of it is empty, so the stage must not see the file.
    const root = bridgeSandbox();
    writeFileSync(at(root, '/etc/hostname'), 'web1\n');
    const facts = factsOf(emptySnapshot(nodeHost(root, {})));
    expect(() => facts.readText('/etc/hostname')).toThrow(new MissingFacts({ kind: 'text', path: '/etc/hostname' }));
    expect(() => facts.user('root')).toThrow(new MissingFacts({ kind: 'passwd' }));
    expect(() => facts.sudo()).toThrow(MissingFacts);
  });

  it('answers from what was gathered, and rethrows what a read threw', () => {
    const root = bridgeSandbox();
    writeFileSync(at(root, '/etc/bad'), Buffer.from([0x61, 0xff, 0x0a]));
    const { snapshot } = gather(nodeHost(root, {}), (facts) => {
      try {
        facts.readText('/etc/bad');
      } catch (err) {
        if (err instanceof MissingFacts) throw err;
      }
      return facts.stat('/etc')?.isDirectory;
    });
    const facts = factsOf(snapshot);
    expect(() => facts.readText('/etc/bad')).toThrow(/not valid UTF-8/);
    expect(facts.stat('/etc')?.isDirectory).toBe(true);
  });

  it('is frozen: a caller cannot change what the snapshot holds', () => {
    const { snapshot } = gather(fakeHost({ files }), (facts) => facts.stat('/etc/hostname'));
    const held = factsOf(snapshot).stat('/etc/hostname') as { mode: number };
    expect(() => {
      held.mode = 0o777;
    }).toThrow(TypeError);
    expect(factsOf(snapshot).stat('/etc/hostname')?.mode).toBe(0o644);
  });
});

describe('gather', () => {
  it('reads each item once, however often the stage asks, and gives the stage the host\'s answers', () => {
    const { host, asked } = counting({ files });
    const result = gather(host, (facts) => {
      askAll(facts);
      askAll(facts);
      return facts.readText('/etc/hostname');
    });
    expect(result.value).toBe('web1\n');
    expect(asked.sort()).toEqual(['groups', 'listDir /etc', 'lstat /etc/hostname', 'readText /etc/hostname', 'readText /etc/missing', 'stat /etc', 'users'].sort());
    expect(result.rounds).toBe(asked.length + 1); // one round per item, then the one that finishes
  });

  it('reads a prefetched item before the first round, so the stage needs no round for it', () => {
    const { host, asked } = counting({ files });
    const result = gather(host, (facts) => facts.readText('/etc/hostname'), { prefetch: [{ kind: 'text', path: '/etc/hostname' }] });
    expect({ rounds: result.rounds, asked }).toEqual({ rounds: 1, asked: ['readText /etc/hostname'] });
  });

  it('reads every item a stage names with need in one round, and none it holds again', () => {
    const { host, asked } = counting({ files });
    const result = gather(host, (facts) => {
      facts.need([{ kind: 'text', path: '/etc/hostname' }, { kind: 'stat', path: '/etc' }]);
      facts.need([{ kind: 'stat', path: '/etc' }]);
      return [facts.readText('/etc/hostname'), facts.stat('/etc')?.isDirectory];
    });
    expect(result.value).toEqual(['web1\n', true]);
    expect({ rounds: result.rounds, asked: asked.sort() }).toEqual({ rounds: 2, asked: ['readText /etc/hostname', 'stat /etc'] });
  });

  it('lets any other error through', () => {
    expect(() => gather(fakeHost(), () => resolveSite({ site: '/nowhere' }, fakeHost()))).toThrow(/not a directory/);
  });

  it('plans a no-op upgrade of three bridges in a few rounds once the run\'s usual files are prefetched', async () => {
    const root = bridgeSandbox();
    const env = { TELEGRAM_BOT_TOKEN: '123456789:AAbbccddeeffgghhiijjkkllmmnnooppqqr' };
    const io = { stdout: () => undefined, stderr: () => undefined, env };
    const install = ['install', '--bridge', 'kimaki', '--bridge', 'cc-connect', '--bridge', 'telegram', '--site', SITE, '--service-user', 'opencode', '--root', root, '--no-reload'];
    expect(await main(install, io)).toBe(0);
    const host = nodeHost(root, env);
    const flags = { site: SITE };
    const located = gather(host, (facts) => resolveSite(flags, facts));
    const cold = gather(host, (facts) => planUpgrade(flags, facts), { from: located.snapshot });
    const warm = gather(host, (facts) => planUpgrade(flags, facts), { from: located.snapshot, prefetch: prefetchFor(located.value) });
    expect(warm.value).toEqual(cold.value);
    expect(warm.value.changes.every((c) => c.status === 'unchanged')).toBe(true);
    expect(warm.rounds).toBeLessThan(cold.rounds);
    // With the prefetch, a round for every bridge's home and secret files
    // named at once (Facts.need), one for the PHP-FPM pools (the token
    // file's group), the last one plans: 3 measured.
    expect(warm.rounds).toBeLessThanOrEqual(3);
  });
});

describe('refresh', () => {
  const planned = (spec: FakeHostSpec = { files }) => gather(fakeHost(spec), (facts) => askAll(facts)).snapshot;

  it('sees the same answers from an unchanged machine', () => {
    expect(refresh(planned(), fakeHost({ files })).same).toBe(true);
  });

  it.each([
    ['a file whose content changed', { files: { '/etc/hostname': 'web2\n' } }],
    ['a file that appeared where there was none', { files: { ...files, '/etc/missing': '' } }],
    ['a mode that changed', { files: { '/etc/hostname': { content: 'web1\n', mode: 0o600 } } }],
    ['a new entry in a listed directory', { files: { ...files, '/etc/other': 'x' } }],
    ['a user that changed', { files, users: [{ name: 'www-data', uid: 34, gid: 33, home: '/var/www', shell: '/usr/sbin/nologin' }] }],
  ])('sees %s, and gives the fresh answers to plan from', (_what, spec: FakeHostSpec) => {
    const fresh = fakeHost(spec);
    const result = refresh(planned(), fresh);
    expect(result.same).toBe(false);
    const again = gather(fresh, (facts) => (askAll(facts), facts.readText('/etc/hostname')), { from: result.snapshot });
    expect(again.value).toBe(fresh.readText('/etc/hostname'));
  });

  it('reads each item of the snapshot once', () => {
    const { host, asked } = counting({ files });
    const snapshot = planned();
    refresh(snapshot, host);
    expect(new Set(asked).size).toBe(asked.length);
    expect(asked.length).toBe(7);
  });

  it('records a thrown error as an answer: the same error again is the same answer, its absence is not', () => {
    const root = bridgeSandbox();
    writeFileSync(at(root, '/etc/bad'), Buffer.from([0x61, 0xff, 0x0a]));
    const { snapshot } = gather(nodeHost(root, {}), (facts) => {
      try {
        return facts.readText('/etc/bad');
      } catch (err) {
        if (err instanceof MissingFacts) throw err;
        return 'refused';
      }
    });
    expect(refresh(snapshot, nodeHost(root, {})).same).toBe(true);
    writeFileSync(at(root, '/etc/bad'), 'a\n');
    expect(refresh(snapshot, nodeHost(root, {})).same).toBe(false);
  });

  it('sees an error where the plan got an answer', () => {
    const failing: Facts = {
      ...fakeHost({ files }),
      readText: () => {
        throw new Error('EACCES');
      },
    };
    expect(refresh(planned(), failing).same).toBe(false);
  });

  it('never calls a view of another root the same', () => {
    const { snapshot } = gather(nodeHost('/tmp', {}), (facts) => facts.stat('/'));
    expect(refresh(snapshot, nodeHost('/', {})).same).toBe(false);
  });
});
