#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Give ansible-test sanity the environments it would build, from Debian's packages.

ansible-test runs each sanity test that has Python requirements in a venv
under ~/.ansible/test/venv it builds with pip from PyPI (pinned versions).
This machine, like CI, reaches no PyPI. So, for each such test, this makes
the venv at the very path ansible-test computes, with --system-site-packages
(Debian's python3-voluptuous, python3-yaml, python3-jinja2, yamllint,
pycodestyle, pylint: .ci/run installs them) and ansible-test's completion
marker. ansible-test then runs the test in it as usual. The versions are
Debian's, close to but not exactly ansible-test's pins.
Run with HOME set to the test's temp home, inside the collection.
"""

import json
import os
import subprocess
import sys

from ansible_test._internal.commands.sanity import hash_pip_commands
from ansible_test._internal.host_configs import NativePythonConfig
from ansible_test._internal.python_requirements import collect_requirements

version = '%d.%d' % sys.version_info[:2]
python = NativePythonConfig(version=version, path=sys.executable)
for name in sys.argv[1:]:
    commands = collect_requirements(python=python, controller=True, virtualenv=False, command=None, ansible=False,
                                    cryptography=False, coverage=False, minimize=False, sanity=name)
    label = 'sanity.%s' % name if commands else 'sanity'
    path = os.path.join(os.path.expanduser('~/.ansible/test/venv'), label, version, hash_pip_commands(commands))
    if os.path.exists(os.path.join(path, 'marker.txt')):
        continue
    subprocess.run([sys.executable, '-m', 'venv', '--system-site-packages', '--without-pip', path], check=True)
    with open(os.path.join(path, 'meta.install.json'), 'w') as out:
        json.dump([c.serialize() for c in commands], out, indent=4)
    # What ansible-test records from its yamlcheck: Debian's PyYAML has the C loader.
    with open(os.path.join(path, 'meta.yaml.json'), 'w') as out:
        json.dump(True, out)
    open(os.path.join(path, 'marker.txt'), 'w').close()
    print('seeded %s' % path)
