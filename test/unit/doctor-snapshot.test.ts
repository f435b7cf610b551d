/**
 * doctor over a gathered snapshot (#18): its diagnosis is a pure stage that
 * never reads the machine (gather reads for it, each item once), and the
 * probes that start a process run after it, in one live step, from what
 * the diagnosis named.
 */
import { chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diagnosisOf, doctorPrefetch, gatherDiagnosis, runDoctor } from '../../installer/cli/commands/doctor.js';
import { liveProbes, settle } from '../../installer/doctor/doctor.js';
import { runLiveProbes } from '../../installer/doctor/sudo-probe.js';
import { gather } from '../../installer/facts/gather.js';
import { nodeHost } from '../../installer/facts/host.js';
import { emptySnapshot, factsOf } from '../../installer/facts/snapshot.js';
import { MissingFacts } from '../../installer/model/errors.js';
import type { Facts } from '../../installer/model/facts.js';
import { runnerOf } from '../../installer/process/run.js';
import { bridgeSandbox, SECRET_ENV } from '../helpers/bridge-sandbox.js';
import { runMain } from '../helpers/cli.js';
import { at, SITE, SVC_GID, SVC_UID } from '../helpers/sandbox.js';

const TOKEN_FILE = '/etc/bridgectl/telegram.curl';
const CHANNELS = `${SITE}/wp-content/mu-plugins/wp-coding-agents-channels.php`;
const TRANSPORT = `${SITE}/wp-content/mu-plugins/wp-coding-agents-cli-transport.php`;

/** kimaki through the sudo hop (the hop's render runs inside the diagnosis), telegram with its token file, direct cc-connect. */
async function installed(): Promise<string> {
  const root = bridgeSandbox({ [TRANSPORT.slice(1)]: { content: '<?php\n// transport\n', mode: 0o644 } });
  const base = ['--site', SITE, '--service-user', 'opencode', '--root', root, '--no-reload'];
  for (const argv of [
    ['install', '--bridge', 'kimaki', '--dispatch', 'sudo', ...base],
    ['install', '--bridge', 'telegram', ...base],
    ['install', '--bridge', 'cc-connect', ...base],
  ]) {
    const r = await runMain(argv, SECRET_ENV);
    expect({ argv, code: r.code, stderr: r.stderr.replace(/^note: .*\n/gm, '') }).toEqual({ argv, code: 0, stderr: '' });
  }
  return root;
}

const READS = ['users', 'groups', 'fpmPools', 'sudo', 'stat', 'lstat', 'readText', 'listDir', 'readLink'] as const;

/** A live host that records every read it answers. */
function counting(inner: Facts): { host: Facts; asked: string[] } {
  const asked: string[] = [];
  const host: Facts = { ...inner };
  for (const name of READS) {
    const read = inner[name] as unknown as (...a: unknown[]) => unknown;
    Object.assign(host, { [name]: (...a: unknown[]) => (asked.push(`${name} ${a.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(' ')}`.trim()), read(...a)) });
  }
  return { host, asked };
}

/** A live host that may not be read at all. */
function sealed(inner: Facts): Facts {
  const host: Facts = { ...inner };
  for (const name of READS) Object.assign(host, { [name]: (...a: unknown[]) => { throw new Error(`the stage read ${name} ${a.join(' ')}`); } });
  return host;
}

const never = runnerOf(() => {
  throw new Error('the diagnosis started a process');
});

describe("doctor's diagnosis is pure over the snapshot", () => {
  it('reads each item once through gather, and over the gathered snapshot it reads nothing and decides the same', async () => {
    const root = await installed();
    const { host, asked } = counting(nodeHost(root, {}));
    const first = gatherDiagnosis({ site: SITE }, host);
    expect(asked.length).toBeGreaterThan(20);
    expect(new Set(asked).size).toBe(asked.length);

    // The same stage over the snapshot it returned: from a host that throws on any read, in one round.
    const again = gather(sealed(nodeHost(root, {})), diagnosisOf({ site: SITE }, SITE), { from: first.snapshot });
    expect(again.rounds).toBe(1);
    expect(again.value).toEqual(first.diagnosis);
    // And straight over the snapshot's Facts: nothing missing, nothing else to read.
    expect(diagnosisOf({ site: SITE }, SITE)(factsOf(first.snapshot))).toEqual(first.diagnosis);
  });

  it('asks instead of reading: over an empty snapshot it stops with MissingFacts', async () => {
    const root = await installed();
    const stage = diagnosisOf({ site: SITE }, SITE);
    expect(() => stage(factsOf(emptySnapshot(nodeHost(root, {}))))).toThrow(MissingFacts);
  });

  it('never reads a secret file, and the prefetch does not either', async () => {
    const root = await installed();
    const { host, asked } = counting(nodeHost(root, {}));
    runDoctor({ site: SITE }, host, () => ({ ok: true }));
    expect(asked.filter((a) => a.includes(TOKEN_FILE))).toEqual([]);
    expect(doctorPrefetch(SITE).filter((i) => 'path' in i && i.path === TOKEN_FILE)).toEqual([]);
  });

  it('prefetches what every run reads: fewer rounds, the same checks', async () => {
    const root = await installed();
    const cold = gather(nodeHost(root, {}), diagnosisOf({ site: SITE }, SITE));
    const warm = gatherDiagnosis({ site: SITE }, nodeHost(root, {}));
    expect(warm.diagnosis).toEqual(cold.value);
    expect(warm.rounds).toBeLessThan(cold.rounds);
  });

  it("reads a data dir's entries a directory at a time, not one round each", async () => {
    const root = await installed();
    const logs = at(root, '/home/opencode/.kimaki/logs');
    mkdirSync(logs, { recursive: true });
    for (let i = 0; i < 400; i++) writeFileSync(`${logs}/session-${i}.log`, '');
    chownSync(logs, SVC_UID, SVC_GID);
    const { rounds, diagnosis } = gatherDiagnosis({ site: SITE }, nodeHost(root, {}));
    expect(rounds).toBeLessThan(60);
    expect(diagnosis).toEqual(diagnosisOf({ site: SITE }, SITE)(nodeHost(root, {})));
  });
});

describe("doctor's live probes run in one step, after the diagnosis", () => {
  it('one module of doctor can start a process or read the machine: the live step', () => {
    const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../installer/doctor');
    const live = readdirSync(dir).filter((f) => /from '(\.\.\/(process|facts)\/|node:(child_process|fs))/.test(readFileSync(path.join(dir, f), 'utf8')));
    expect(live).toEqual(['sudo-probe.ts']);
  });

  it('the diagnosis names them in report order, and starts none itself', async () => {
    const root = await installed();
    const { diagnosis } = gatherDiagnosis({ site: SITE, run: never }, nodeHost(root, {}));
    const probes = liveProbes(diagnosis.findings);
    // Under a sandbox root the grant is not tried (that needs the live host): php -l of both files, visudo of kimaki's drop-in.
    expect(probes.map((p) => (p.kind === 'php-lint' ? `${p.kind} ${p.area}` : p.kind))).toEqual(['php-lint channels', 'php-lint transport', 'visudo']);
    const pending = diagnosis.findings.filter((f) => 'probe' in f).map((f) => f.id);
    expect(pending).toEqual(['channels.php-lint', 'transport.php-lint', 'channel.kimaki.sudo.visudo']);
  });

  it('starts exactly the processes the diagnosis named, and their checks stand where the diagnosis put them', async () => {
    const root = await installed();
    const started: string[] = [];
    const run = runnerOf((file, args) => {
      started.push([file, ...args].join(' '));
      return file === 'php' ? { status: 0, stdout: 'No syntax errors detected', stderr: '' } : file.endsWith('visudo') ? { status: 0, stdout: 'parsed OK', stderr: '' } : { status: null, stdout: '', stderr: '', error: 'ENOENT' };
    });
    const report = runDoctor({ site: SITE, run }, nodeHost(root, {}));
    expect(started).toEqual([
      `php -n -l ${at(root, CHANNELS)}`,
      `php -n -l ${at(root, TRANSPORT)}`,
      `/usr/sbin/visudo -c -f ${at(root, '/etc/sudoers.d/bridgectl-kimaki')}`,
    ]);
    // The same checks as settling the diagnosis with what those processes gave.
    const { diagnosis } = gatherDiagnosis({ site: SITE }, nodeHost(root, {}));
    const outcomes = runLiveProbes(liveProbes(diagnosis.findings), root, { run: runnerOf(() => ({ status: 0, stdout: '', stderr: '' })) });
    expect(settle(diagnosis.findings, outcomes, root)).toEqual(report.checks);
    expect(report.checks.map((c) => c.id)).toEqual(diagnosis.findings.map((f) => f.id));
    expect(report.checks.find((c) => c.id === 'channel.kimaki.sudo.visudo')).toMatchObject({ status: 'ok' });
  });

  it('no php: php -l is tried once, and every managed file says it was not linted', async () => {
    const root = await installed();
    let lints = 0;
    const report = runDoctor({ site: SITE, run: runnerOf(() => ({ status: 0, stdout: '', stderr: '' })) }, nodeHost(root, {}), () => (lints++, 'unavailable'));
    expect(lints).toBe(1);
    expect(report.checks.filter((c) => c.id.endsWith('.php-lint')).map((c) => [c.id, c.status, c.message])).toEqual([
      ['channels.php-lint', 'warn', `${CHANNELS} not linted: php is not on PATH`],
      ['transport.php-lint', 'warn', `${TRANSPORT} not linted: php is not on PATH`],
    ]);
  });
});
