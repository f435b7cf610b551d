# -*- coding: utf-8 -*-
# SPDX-License-Identifier: MIT
"""Record every task result and the final stats as JSON lines, for run.sh's assertions.

The stdout callback stays the default one (run.sh reads it at -vvv for the
token); this one writes what assertions need to $BRIDGECTL_RECORD.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
name: record
type: aggregate
short_description: write task results and stats to $BRIDGECTL_RECORD as JSON lines
description: Test helper for bridgectl's fleet test.
requirements: [enabled in callbacks_enabled]
'''

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'record'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._path = os.environ['BRIDGECTL_RECORD']
        with open(self._path, 'w'):
            pass

    def _write(self, event):
        with open(self._path, 'a') as out:
            out.write(json.dumps(event, sort_keys=True, default=str) + '\n')

    def _result(self, status, result):
        self._write(dict(kind='result', status=status, host=result._host.get_name(),
                         task=result._task.get_name(), result=result._result))

    def v2_runner_on_ok(self, result):
        self._result('ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result('ignored' if ignore_errors else 'failed', result)

    def v2_runner_on_skipped(self, result):
        self._result('skipped', result)

    def v2_runner_on_unreachable(self, result):
        self._result('unreachable', result)

    def v2_playbook_on_stats(self, stats):
        for host in sorted(stats.processed):
            self._write(dict(kind='stats', host=host, stats=stats.summarize(host)))
