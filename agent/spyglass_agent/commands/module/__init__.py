"""`module FILEPATH`: the module name(s) a file is loaded under (see module_files)."""

from . import module_files

NAME = 'module'


def run(ctx):
    return module_files.find(ctx.arg('path', str, required=True), ctx.arg('client_path', str))
