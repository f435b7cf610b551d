#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bridgectl contributors
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: channel
short_description: Add, replace or remove a custom channel in a WordPress site's channels file
version_added: "0.1.0"
description:
  - Runs C(bridgectl channel set) or C(channel remove) with C(--json).
  - A custom channel is a block of its own in the channels mu-plugin; bridges' blocks are left alone.
  - Check mode is bridgectl's C(--dry-run); diff mode shows the channels file before and after.
author:
  - bridgectl contributors (@bridgectl)
options:
  name:
    description:
      - The channel's name.
    type: str
    required: true
  state:
    description:
      - C(present) adds or replaces the channel; C(absent) removes it (no change when it is not there).
    type: str
    choices: [present, absent]
    default: present
  command:
    description:
      - Absolute path of the executable, as the server sees it. Required with I(state=present).
    type: str
  args:
    description:
      - Its arguments; C({recipient}) and C({message}) are substituted. Values may start with a dash.
    type: list
    elements: str
    default: []
  env:
    description:
      - Variables pinned for the child process.
    type: dict
    default: {}
  detach:
    description:
      - Run detached (C(true)) or wait for the exit status.
    type: bool
  timeout:
    description:
      - Seconds before the transport gives up (synchronous channels).
    type: int
  site:
    description:
      - The WordPress root, as the server sees it.
    type: str
    required: true
  reload:
    description:
      - On the live host, reload PHP-FPM after writing; C(false) passes C(--no-reload).
    type: bool
    default: true
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
    description: Runs bridgectl with C(--dry-run) - C(changed) as it would be, nothing written.
    support: full
  diff_mode:
    description: Before and after of the channels file.
    support: full
'''

EXAMPLES = r'''
- name: A synchronous notifier channel
  bridgectl.wordpress.channel:
    site: /var/www/html
    name: notify
    command: /usr/local/bin/notify-send-wrapper
    args: ["--to", "{recipient}", "--text={message}"]
    env:
      HOME: /home/opencode
    detach: false
    timeout: 30

- name: Remove it
  bridgectl.wordpress.channel:
    site: /var/www/html
    name: notify
    state: absent
'''

RETURN = r'''
files:
  description: The managed files with their status (create, update, unchanged or remove).
  returned: success
  type: list
  elements: dict
notes:
  description: bridgectl's notes (e.g. a command that is not executable yet, a channel that was not there).
  returned: always
  type: list
  elements: str
cmd:
  description: The bridgectl command line run.
  returned: always
  type: list
  elements: str
rc:
  description: bridgectl's exit code.
  returned: failure
  type: int
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bridgectl.wordpress.plugins.module_utils.bridgectl import (
    common_argument_spec, common_flags, mutation_result, run_json,
)


def set_flags(params):
    # The = form keeps a value that starts with a dash a value (bridgectl's --arg=-x rule).
    flags = ['--command=' + params['command']]
    flags += ['--arg=' + a for a in params['args']]
    flags += ['--env=%s=%s' % (k, v) for k, v in sorted(params['env'].items())]
    if params['detach'] is not None:
        flags.append('--detach' if params['detach'] else '--no-detach')
    if params['timeout'] is not None:
        flags.append('--timeout=%d' % params['timeout'])
    return flags


def main():
    spec = common_argument_spec()
    spec.update(
        name=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        command=dict(type='str'),
        args=dict(type='list', elements='str', default=[]),
        env=dict(type='dict', default={}),
        detach=dict(type='bool'),
        timeout=dict(type='int'),
        site=dict(type='str', required=True),
        reload=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_if=[('state', 'present', ('command',))])
    params = module.params
    if params['state'] == 'present':
        args = ['channel', 'set', params['name']] + set_flags(params)
    else:
        args = ['channel', 'remove', params['name']]
    args += common_flags(module)
    args.append('--reload' if params['reload'] else '--no-reload')
    if module.check_mode:
        args.append('--dry-run')
    doc, rc, stderr = run_json(module, args)
    mutation_result(module, doc, rc, stderr, [params.get('executable') or 'bridgectl'] + args)


if __name__ == '__main__':
    main()
