"""Loads the agent package by path under its private name, as the bootstrap does."""

import importlib.util
import os
import sys

NAME = '_spyglass_agent'
# normalised, as the bootstrap's path is: code objects carry it as their file name
PKG_DIR = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'agent', 'spyglass_agent')
)


def agent_package():
    if NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            NAME, os.path.join(PKG_DIR, '__init__.py'), submodule_search_locations=[PKG_DIR]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[NAME]


agent_package()
