/**
 * The bundle renders templates precompiled at build time; source and tests
 * compile them at run time. Both must produce the same bytes, for every
 * template, so a deploy never depends on which path rendered a file.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { bridges } from '../../bridges/index.js';
import { REGISTRY_FILTER } from '../../installer/render/channel.js';
import type { Identity } from '../../installer/model/identity.js';
import { compileTemplate, renderTemplate, templateFromSpec, TEMPLATE_OPTIONS, traceRenders } from '../../installer/render/templates.js';
import { type TemplateSpec } from '../../installer/render/templates-precompiled.js';
import { runMain } from '../helpers/cli.js';
import { bridgeSandbox, SECRET_FLAGS } from '../helpers/bridge-sandbox.js';
import { SITE } from '../helpers/sandbox.js';
import { precompileTemplates, precompiledModuleSource, TEMPLATE_OPTIONS as BUILD_OPTIONS } from '../../scripts/precompile-templates.mjs';

const TEMPLATES = path.resolve('templates');

const identity = (over: Partial<Identity> = {}): Identity => ({
  serviceUser: 'opencode',
  uid: 1001,
  gid: 1001,
  home: '/home/opencode',
  dataDir: '/home/opencode/.data',
  binary: '/usr/local/bin/tool',
  binaries: { tool: '/usr/local/bin/tool' },
  site: '/var/www/html',
  init: 'systemd',
  ...over,
});

const block = (over: object = {}): object => ({
  name: 'kimaki',
  command: '/usr/local/bin/kimaki',
  args: ['send', '--channel', '{recipient}', '--prompt', '{message}'],
  detach: true,
  timeout: 600,
  env: [['HOME', '/home/opencode']],
  ...over,
});

/**
 * Hand-written sample contexts, with the edge cases the helpers escape. On
 * top of these, every context an install of every bridge renders is
 * checked too (below), so a template the engine renders needs no entry
 * here to be covered; one it does not render does.
 */
const SAMPLES: Record<string, object[]> = {
  'channels.php.hbs': [{ registryFilter: REGISTRY_FILTER }, { registryFilter: "it's a \\ filter" }],
  'channel-block.php.hbs': [
    // What every registered bridge renders, for an ordinary and an awkward identity.
    ...bridges.flatMap((b) =>
      [identity(), identity({ home: "/home/o'brien", dataDir: '/srv/dätä/\\x', binary: '/opt/bin/a b' })].flatMap((id) => {
        const spec = b.channel(id, { command: '/usr/bin/curl', secretFile: '/etc/bridgectl/x.curl' });
        return spec ? [{ ...spec, env: spec.env.length > 0 ? spec.env : null }] : [];
      }),
    ),
    block(),
    block({ detach: false, timeout: 0, args: [], env: null }),
    block({ args: ["it's", 'back\\slash', '?>', '*/', '$x', 'ünï'], env: [['A', "'"], ['B', '\\']] }),
  ],
};

// Listed independently of the build script, so a template it skipped (say, in a subdirectory) fails here.
const templateNames = (readdirSync(TEMPLATES, { recursive: true }) as string[])
  .map((n) => n.split(path.sep).join('/'))
  .filter((n) => n.endsWith('.hbs'))
  .sort();
const specs = precompileTemplates(TEMPLATES);
const fromSpec = (name: string) => templateFromSpec(new Function(`return ${specs[name]}`)() as TemplateSpec);

describe('precompiled templates (the bundle) render what run-time compilation (source) renders', () => {
  it('uses the same compile options at build time and at run time', () => {
    expect(BUILD_OPTIONS).toEqual(TEMPLATE_OPTIONS);
  });

  it('precompiles every template in templates/, and nothing else', () => {
    expect(Object.keys(specs)).toEqual(templateNames);
    const source = precompiledModuleSource(TEMPLATES);
    for (const name of templateNames) expect(source).toContain(JSON.stringify(name));
  });

  // What the engine really renders: install every bridge, then upgrade
  // with another identity, recording each (template, context).
  const rendered: Record<string, object[]> = {};
  beforeAll(async () => {
    const root = bridgeSandbox();
    const ids = bridges.flatMap((b) => ['--bridge', b.id]);
    traceRenders((name, context) => (rendered[name] ??= []).push(structuredClone(context)));
    try {
      for (const argv of [
        ['install', ...ids, '--site', SITE, '--service-user', 'opencode', '--root', root, ...SECRET_FLAGS],
        ['upgrade', '--site', SITE, '--service-user', 'root', '--root', root],
        ['upgrade', '--site', SITE, '--dispatch', 'sudo', '--root', root], // the sudo hop's templates
        ['upgrade', '--site', SITE, '--init', 'launchd', '--root', root], // plists
      ]) {
        const r = await runMain(argv, {});
        if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
      }
    } finally {
      traceRenders(undefined);
    }
  });

  it.each(templateNames)('%s is checked on some context (a sample here, or rendered by an install)', (name) => {
    expect((SAMPLES[name]?.length ?? 0) + (rendered[name]?.length ?? 0)).toBeGreaterThan(0);
  });

  it.each(templateNames)('%s: same bytes for every sample and every rendered context', (name) => {
    const precompiled = fromSpec(name);
    const compiled = compileTemplate(name);
    for (const context of [...(SAMPLES[name] ?? []), ...(rendered[name] ?? [])]) {
      const expected = compiled(context);
      expect(precompiled(context)).toBe(expected);
      expect(renderTemplate(name, context)).toBe(expected);
    }
  });

  it.each(templateNames)('%s: both strict alike (a missing field fails both, or neither)', (name) => {
    const outcome = (render: (context: object) => string): string => {
      try {
        return `ok:${render({})}`;
      } catch (err) {
        return `error:${(err as Error).message}`;
      }
    };
    expect(outcome(fromSpec(name))).toBe(outcome(compileTemplate(name)));
  });
});
