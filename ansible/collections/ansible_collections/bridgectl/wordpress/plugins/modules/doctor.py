#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bridgectl contributors
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: doctor
short_description: Check with bridgectl doctor that a dispatch from WordPress would work
version_added: "0.1.0"
description:
  - Runs C(bridgectl doctor --json) and returns every check.
  - Fails when a check fails (a dispatch from WP-cron would fail), or with I(fail_on=warn) also on a warning.
  - Never changes anything; in check mode it runs as usual.
author:
  - bridgectl contributors (@bridgectl)
options:
  site:
    description:
      - The WordPress root, as the server sees it.
    type: str
    required: true
  web_user:
    description:
      - The user(s) PHP runs WP-cron as. Default - env WEB_USER, else the PHP-FPM pools' user, else www-data.
    type: list
    elements: str
  fail_on:
    description:
      - C(fail) fails on a failed check only; C(warn) fails on a warning too.
    type: str
    choices: [fail, warn]
    default: fail
  root:
    description:
      - Resolve every path under this directory (a sandbox root, for tests).
    type: path
  executable:
    description:
      - bridgectl's path. Default - C(bridgectl) found on PATH.
    type: path
attributes:
  check_mode:
    description: doctor only reads; it runs as usual in check mode.
    support: full
  diff_mode:
    description: doctor changes nothing, so there is nothing to show.
    support: none
'''

EXAMPLES = r'''
- name: Will a dispatch from WP-cron work?
  bridgectl.wordpress.doctor:
    site: /var/www/html

- name: Be strict in CI
  bridgectl.wordpress.doctor:
    site: /var/www/html
    web_user: [www-data]
    fail_on: warn
'''

RETURN = r'''
checks:
  description: Every check bridgectl ran - id, status (ok, warn or fail), message, fix.
  returned: when doctor ran
  type: list
  elements: dict
  sample: [{"id": "channels.exists", "status": "ok", "message": "... exists", "fix": null}]
failed_checks:
  description: The checks that made the module fail (status fail, and warn with I(fail_on=warn)).
  returned: when doctor ran
  type: list
  elements: dict
web_user:
  description: The user every check reasons as, and where that name came from.
  returned: when doctor ran
  type: dict
rc:
  description: bridgectl's exit code (0 no check failed, 1 a check failed or doctor could not run).
  returned: always
  type: int
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bridgectl.wordpress.plugins.module_utils.bridgectl import (
    common_argument_spec, common_flags, fail_from, run_json,
)


def main():
    spec = common_argument_spec()
    spec.update(
        site=dict(type='str', required=True),
        web_user=dict(type='list', elements='str'),
        fail_on=dict(type='str', choices=['fail', 'warn'], default='fail'),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    args = ['doctor'] + common_flags(module)
    for user in module.params['web_user'] or []:
        args.append('--web-user=' + user)
    doc, rc, stderr = run_json(module, args)
    checks = doc.get('checks') or []
    if doc.get('error') or (rc != 0 and not checks):
        # doctor could not run at all: bridgectl's own message.
        fail_from(module, doc, rc, stderr)
    stops = ('fail', 'warn') if module.params['fail_on'] == 'warn' else ('fail',)
    bad = [c for c in checks if c.get('status') in stops]
    result = dict(changed=False, checks=checks, failed_checks=bad, web_user=doc.get('webUser'), rc=rc)
    if bad or (rc != 0 and module.params['fail_on'] == 'fail'):
        lines = ['%s %s: %s%s' % (c.get('status', '').upper(), c.get('id'), c.get('message'),
                                  ' (fix: %s)' % c['fix'] if c.get('fix') else '') for c in bad]
        module.fail_json(msg='bridgectl doctor: %d check(s) stop a dispatch: %s' % (len(bad), '; '.join(lines)), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
