#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Assertions over one ansible-playbook run, read from the record callback's JSON lines.

usage: results.py STEP RECORD_FILE
Each step names what the issue asks of that run; every failed expectation is
printed, and the exit code is 1 if there was one.
"""

import json
import sys

HOSTS = ['alpha', 'beta', 'delta', 'gamma']
CHANNELS = '/var/www/html/wp-content/mu-plugins/wp-coding-agents-channels.php'
BRIDGES_TASK = "Apply the host's bridges"
CHANNELS_TASK = "Apply the host's custom channels"
DOCTOR_TASK = 'Check that a dispatch from WordPress would work'
NPM_TASK = 'Install bridgectl with npm'
SECRET_NOTICE = '(secret file: content not shown)'


class Run:
    def __init__(self, path):
        self.results, self.stats, self.problems = [], {}, []
        with open(path) as lines:
            for line in lines:
                event = json.loads(line)
                if event['kind'] == 'stats':
                    self.stats[event['host']] = event['stats']
                else:
                    self.results.append(event)

    def expect(self, ok, what):
        if not ok:
            self.problems.append(what)

    def result(self, host, task):
        # A role's tasks are recorded as "<role> : <name>".
        found = [e for e in self.results if e['host'] == host and e['task'].split(' : ', 1)[-1] == task]
        self.expect(len(found) == 1, '%s: task %r ran %d times, expected once' % (host, task, len(found)))
        return found[0] if found else {'status': 'missing', 'result': {}}

    def hosts_ran(self, hosts):
        self.expect(sorted(self.stats) == sorted(hosts), 'hosts in the recap: %s, expected %s' % (sorted(self.stats), sorted(hosts)))

    def no_failures(self, hosts):
        for host in hosts:
            stats = self.stats.get(host, {})
            self.expect(stats.get('failures', 1) == 0 and stats.get('unreachable', 1) == 0,
                        '%s: failures %s, unreachable %s' % (host, stats.get('failures'), stats.get('unreachable')))


def diff_for(result, path):
    for item in result.get('diff') or []:
        if item.get('after_header', '').startswith(path) or item.get('before_header', '').startswith(path):
            return item
    return None


def step_install(run):
    run.hosts_ran(HOSTS)
    run.no_failures(HOSTS)
    for host in HOSTS:
        event = run.result(host, NPM_TASK)
        run.expect(event['status'] == 'ok' and event['result'].get('changed'), '%s: npm did not install bridgectl' % host)


def step_fresh(run):
    """--check before bridgectl is on the host: the role says it cannot plan yet, and fails nowhere."""
    run.hosts_ran(['alpha'])
    run.no_failures(['alpha'])
    npm = run.result('alpha', NPM_TASK)
    run.expect(npm['status'] in ('ok', 'skipped') and 'check mode' in npm['result'].get('msg', ''),
               'alpha: npm task in check mode on a fresh host: %s %r' % (npm['status'], npm['result'].get('msg')))
    say = run.result('alpha', 'Say why nothing is planned')
    run.expect(say['status'] == 'ok' and 'not installed yet' in say['result'].get('msg', ''), 'alpha: no word on why nothing is planned')
    for task in (BRIDGES_TASK, DOCTOR_TASK):
        run.expect(run.result('alpha', task)['status'] == 'skipped', 'alpha: %s ran on a host without bridgectl' % task)


def step_check(run):
    """--check --diff: bridges and channels would change, the diff shows the block; doctor is left for the real run."""
    run.hosts_ran(HOSTS)
    run.no_failures(HOSTS)
    for host in HOSTS:
        npm = run.result(host, NPM_TASK)
        run.expect(npm['status'] == 'skipped', '%s: npm task %s in check mode after install, expected skipped' % (host, npm['status']))
        event = run.result(host, BRIDGES_TASK)
        res = event['result']
        run.expect(event['status'] == 'ok' and res.get('changed') is True, '%s: check mode did not report changed' % host)
        item = diff_for(res, CHANNELS)
        run.expect(item is not None, '%s: no diff for the channels file' % host)
        if item:
            run.expect('// BEGIN bridge:kimaki' in item.get('after', '') and '// BEGIN bridge:kimaki' not in item.get('before', ''),
                       '%s: the diff does not show the kimaki block being added' % host)
            run.expect(item.get('before') == '', '%s: the channels file should not exist before the first run' % host)
        doctor = run.result(host, DOCTOR_TASK)
        run.expect(doctor['status'] == 'skipped', '%s: doctor %s in check mode, expected skipped' % (host, doctor['status']))
    secret = diff_for(run.result('beta', BRIDGES_TASK)['result'], '/etc/bridgectl/telegram.curl')
    run.expect(secret is not None and SECRET_NOTICE in secret.get('after', ''), 'beta: the token file is not listed as a secret in the diff')
    channels = run.result('alpha', CHANNELS_TASK)['result']
    run.expect(channels.get('changed') is True, 'alpha: the custom channel was not reported as a change in check mode')


def step_apply(run):
    """The first real run: everything written; delta's doctor fails with the message, the others complete."""
    run.hosts_ran(HOSTS)
    others = [h for h in HOSTS if h != 'delta']
    run.no_failures(others)
    for host in HOSTS:
        event = run.result(host, BRIDGES_TASK)
        run.expect(event['status'] == 'ok' and event['result'].get('changed') is True, '%s: the first run did not report changed' % host)
        statuses = {f['path']: f['status'] for f in event['result'].get('files', [])}
        run.expect(statuses.get(CHANNELS) == 'create', '%s: channels file status %s, expected create' % (host, statuses.get(CHANNELS)))
    for host in others:
        doctor = run.result(host, DOCTOR_TASK)
        run.expect(doctor['status'] == 'ok' and doctor['result'].get('changed') is False, '%s: doctor %s' % (host, doctor['status']))
        run.expect(any(c['id'] == 'channel.kimaki.dispatch' or c['id'].startswith('channel.kimaki.') for c in doctor['result'].get('checks', [])),
                   '%s: doctor returned no kimaki checks' % host)
    doctor = run.result('delta', DOCTOR_TASK)
    msg = doctor['result'].get('msg', '')
    run.expect(doctor['status'] == 'failed', 'delta: doctor %s, expected failed' % doctor['status'])
    run.expect('channel.kimaki.data-dir' in msg and 'www-data cannot write' in msg and 'fix:' in msg,
               "delta: doctor's failure does not carry bridgectl's message and fix: %r" % msg[:300])
    run.expect(run.stats.get('delta', {}).get('failures') == 1, 'delta: expected exactly one failure')


def step_again(run):
    """The second run: ok everywhere, changed=false on every host (delta's doctor still fails)."""
    run.hosts_ran(HOSTS)
    run.no_failures([h for h in HOSTS if h != 'delta'])
    for host in HOSTS:
        run.expect(run.stats.get(host, {}).get('changed') == 0, '%s: the second run changed %s task(s)' % (host, run.stats.get(host, {}).get('changed')))
        event = run.result(host, BRIDGES_TASK)
        run.expect(event['result'].get('changed') is False, '%s: the bridges task changed on the second run' % host)
    run.expect(run.result('delta', DOCTOR_TASK)['status'] == 'failed', 'delta: doctor should still fail')


def step_clean(run):
    """A playbook whose assertions run inside it: every host in it must end without failures."""
    run.expect(bool(run.stats), 'no hosts ran')
    run.no_failures(sorted(run.stats))


STEPS = dict(fresh=step_fresh, install=step_install, check=step_check, apply=step_apply, again=step_again, clean=step_clean)

if __name__ == '__main__':
    step, path = sys.argv[1], sys.argv[2]
    run = Run(path)
    STEPS[step](run)
    for problem in run.problems:
        print('  expectation failed: ' + problem)
    sys.exit(1 if run.problems else 0)
