/**
 * The command registry is the one list: every command says whether it
 * writes and how it runs, and the lock follows what it says.
 */
import { bridges } from '../../../bridges/index.js';
import { commands, commandWrites, findCommand } from '../../../installer/cli/commands/index.js';
import { identityOptions, renderIdentityOptions, secretFlags } from '../../../installer/cli/options.js';
import { commandName, type CommandSpec } from '../../../installer/cli/types.js';

function leaves(list: readonly CommandSpec[], prefix: string[] = []): [string, CommandSpec][] {
  return list.flatMap((c) => (c.subcommands ? leaves(c.subcommands, [...prefix, commandName(c)]) : [[[...prefix, commandName(c)].join(' '), c] as [string, CommandSpec]]));
}

describe('command registry', () => {
  it.each(leaves(commands))('%s runs one way: a writer plans, a reader runs', (_name, spec) => {
    const ways = [spec.plan, spec.run, spec.duringParse].filter((f) => f !== undefined);
    expect(ways).toHaveLength(1);
    expect(spec.plan !== undefined).toBe(spec.writes);
  });

  it.each([
    [['install'], true],
    [['upgrade'], true],
    [['uninstall'], true],
    [['channel', 'set', 'x'], true],
    [['channel', 'remove', 'x'], true],
    // A channel named like a read-only command is still written under the lock.
    [['channel', 'set', 'list'], true],
    [['check'], false],
    [['render'], false],
    [['doctor'], false],
    [['channel', 'list'], false],
    [['no-such-command'], true],
  ] as const)('%j writes: %s', (words, writes) => {
    expect(commandWrites(words)).toBe(writes);
  });

  it('finds subcommands by their name, not their positionals', () => {
    expect(findCommand(['channel', 'set', 'notify'])?.command).toBe('set <name>');
    expect(findCommand(['nothing'])).toBeUndefined();
  });
});

describe('options from the bridge registry', () => {
  const withSecret = bridges.filter((b) => b.secret !== undefined);

  it("declares each bridge's secret flag for install's family and render", () => {
    expect(withSecret.length).toBeGreaterThan(0);
    for (const b of withSecret) {
      const key = b.secret?.flag.replace(/^--/, '') ?? '';
      expect(identityOptions.options[key]?.describe).toBe(b.secret?.describe);
      expect(renderIdentityOptions.options[key]?.describe).toBe(b.secret?.describeForRender);
    }
  });

  it('hands a given secret to the identity under its flag', () => {
    const b = withSecret[0];
    const key = b?.secret?.flag.replace(/^--/, '') ?? '';
    expect(secretFlags({ [key]: 'v' })).toEqual({ [b?.secret?.flag ?? '']: 'v' });
    expect(secretFlags({})).toBeUndefined();
  });

  it("names every data dir's variable in --data-dir's help", () => {
    for (const b of bridges) if (b.dataDir.env) expect(identityOptions.options['data-dir']?.describe).toContain(b.dataDir.env);
  });
});
