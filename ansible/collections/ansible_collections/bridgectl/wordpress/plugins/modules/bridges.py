#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bridgectl contributors
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: bridges
short_description: Install, upgrade or remove chat bridges on a WordPress site with bridgectl
version_added: "0.1.0"
description:
  - Runs C(bridgectl install), C(upgrade) or C(uninstall) with C(--json) and reports what it wrote.
  - With C(state=present) and I(bridges) given, installs the named bridges that are missing and
    re-renders those already there (bridgectl adopts the installed identity); with no I(bridges),
    upgrades every bridge installed on the site.
  - With C(state=absent), removes exactly the named bridges' blocks and service definitions.
  - Check mode is bridgectl's C(--dry-run) - C(changed) as it would be, nothing written.
  - Diff mode shows each changed file before and after; credential files are listed, never shown.
  - bridgectl must be installed on the managed host (see the role C(bridgectl.wordpress.server)).
author:
  - bridgectl contributors (@bridgectl)
options:
  site:
    description:
      - The WordPress root (the directory holding C(wp-config.php) and C(wp-content)), as the server sees it.
    type: str
    required: true
  bridges:
    description:
      - Bridges to act on (C(kimaki), C(cc-connect), C(telegram)).
      - Required with C(state=absent). With C(state=present) and an empty list, every installed bridge is upgraded.
    type: list
    elements: str
    default: []
  state:
    description:
      - C(present) installs what is missing and upgrades what is there; C(absent) uninstalls the named bridges.
    type: str
    choices: [present, absent]
    default: present
  service_user:
    description:
      - The user the bridge runs as; its home is pinned as HOME.
    type: str
  run_as_root:
    description:
      - The bridge runs as root (pins C(/root)).
    type: bool
  data_dir:
    description:
      - The bridge's data directory; one bridge only.
    type: str
  binary:
    description:
      - The bridge CLI's path (one bridge only), or C(NAME=PATH) for any executable, e.g. C(curl=/usr/bin/curl).
    type: list
    elements: str
  web_user:
    description:
      - The user(s) PHP runs as. The first one's group reads the telegram token file; C(dispatch=sudo) grants them all.
    type: list
    elements: str
  dispatch:
    description:
      - Who runs the bridge CLI when WordPress dispatches - C(direct) (the web user) or C(sudo)
        (the service user, through a narrowed sudo grant). Default - the installed mode, else C(direct).
    type: str
    choices: [direct, sudo]
  telegram_token:
    description:
      - The Telegram bot token. Passed to bridgectl in its environment, never on its command line, and never returned.
    type: str
  init:
    description:
      - The service manager to write definitions for. Default - the installed one, else systemd.
    type: str
    choices: [systemd, launchd, none]
  reload:
    description:
      - On the live host, let bridgectl tell systemd and PHP-FPM about the changes; C(false) passes C(--no-reload).
    type: bool
    default: true
  root:
    description:
      - Resolve every path bridgectl reads or writes under this directory (a sandbox root, for tests).
    type: path
  executable:
    description:
      - bridgectl's path. Default - C(bridgectl) found on PATH.
    type: path
notes:
  - Runs on the managed host. bridgectl redacts every secret it has seen; the module redacts I(telegram_token) again.
attributes:
  check_mode:
    description: Runs bridgectl with C(--dry-run) - C(changed) as it would be, nothing written.
    support: full
  diff_mode:
    description: Before and after of each changed file; credential files show a notice instead of content.
    support: full
'''

EXAMPLES = r'''
- name: Install kimaki, dispatched through the sudo hop
  bridgectl.wordpress.bridges:
    site: /var/www/html
    bridges: [kimaki]
    service_user: opencode
    dispatch: sudo

- name: Add telegram with its token from the vault
  bridgectl.wordpress.bridges:
    site: /var/www/html
    bridges: [telegram]
    service_user: opencode
    telegram_token: "{{ vault_telegram_token }}"

- name: Re-render every installed bridge (every deploy)
  bridgectl.wordpress.bridges:
    site: /var/www/html

- name: Remove telegram, and nothing else
  bridgectl.wordpress.bridges:
    site: /var/www/html
    bridges: [telegram]
    state: absent
'''

RETURN = r'''
files:
  description: Every managed file, in plan order, with its status (create, update, unchanged or remove).
  returned: success
  type: list
  elements: dict
  sample: [{"path": "/etc/systemd/system/kimaki.service", "status": "create", "mode": "0644"}]
directories:
  description: Directories the run creates (path, status, mode, uid, gid).
  returned: success
  type: list
  elements: dict
notes:
  description: bridgectl's notes - disagreements between sources, reloads done or to do.
  returned: always
  type: list
  elements: str
identities:
  description: The resolved identity of each bridge touched (service user, home, data dir, binary, init).
  returned: success
  type: dict
cmd:
  description: The bridgectl command line run (it never carries the token).
  returned: always
  type: list
  elements: str
rc:
  description: bridgectl's exit code.
  returned: failure
  type: int
error:
  description: bridgectl's error (message and fix).
  returned: failure
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bridgectl.wordpress.plugins.module_utils.bridgectl import (
    common_argument_spec, common_flags, mutation_result, run_json,
)

TOKEN_ENV = 'TELEGRAM_BOT_TOKEN'


def present_flags(params):
    flags = []
    if params['service_user']:
        flags.append('--service-user=' + params['service_user'])
    if params['run_as_root']:
        flags.append('--run-as-root')
    if params['data_dir']:
        flags.append('--data-dir=' + params['data_dir'])
    for binary in params['binary'] or []:
        flags.append('--binary=' + binary)
    for user in params['web_user'] or []:
        flags.append('--web-user=' + user)
    if params['dispatch']:
        flags.append('--dispatch=' + params['dispatch'])
    if params['init']:
        flags.append('--init=' + params['init'])
    return flags


def command_of(params):
    """bridgectl's subcommand and the flags that apply to it (it rejects the others)."""
    named = ['--bridge=' + b for b in params['bridges']]
    if params['state'] == 'absent':
        flags = named
        if params['service_user']:
            flags.append('--service-user=' + params['service_user'])
        if params['run_as_root']:
            flags.append('--run-as-root')
        return ['uninstall'] + flags
    return (['install'] + named if named else ['upgrade']) + present_flags(params)


def main():
    spec = common_argument_spec()
    spec.update(
        site=dict(type='str', required=True),
        bridges=dict(type='list', elements='str', default=[]),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        service_user=dict(type='str'),
        run_as_root=dict(type='bool'),
        data_dir=dict(type='str'),
        binary=dict(type='list', elements='str'),
        web_user=dict(type='list', elements='str'),
        dispatch=dict(type='str', choices=['direct', 'sudo']),
        telegram_token=dict(type='str', no_log=True),
        init=dict(type='str', choices=['systemd', 'launchd', 'none']),
        reload=dict(type='bool', default=True),
    )
    module = AnsibleModule(
        argument_spec=spec,
        supports_check_mode=True,
        mutually_exclusive=[('service_user', 'run_as_root')],
    )
    params = module.params
    if params['state'] == 'absent' and not params['bridges']:
        module.fail_json(msg='state=absent needs bridges: the bridges to remove')
    args = command_of(params) + common_flags(module)
    args.append('--reload' if params['reload'] else '--no-reload')
    if module.check_mode:
        args.append('--dry-run')
    env = {}
    secrets = []
    if params['telegram_token']:
        env[TOKEN_ENV] = params['telegram_token']
        secrets.append(params['telegram_token'])
    doc, rc, stderr = run_json(module, args, env=env, secrets=secrets)
    mutation_result(module, doc, rc, stderr, [module.params.get('executable') or 'bridgectl'] + args)


if __name__ == '__main__':
    main()
