"""The provider implementation for a name, found through the catalogue and imported only when used
(so `kenv list` never loads a provider module, and provider modules never import each other)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import cast

from kenv.catalogue import CATALOGUE, PROVIDERS
from kenv.errors import InvalidInput
from kenv.providers.base import Provider
from kenv.runtime.process import Runner


def provider_for(name: str, runner: Runner, data_dir: Path) -> Provider:
    facts = CATALOGUE.get(name)
    if facts is None:
        raise InvalidInput(f"unknown provider {name!r}", hint=f"use one of {', '.join(PROVIDERS)}")
    module_name, _, class_name = facts.implementation.partition(":")
    implementation = getattr(importlib.import_module(module_name), class_name)
    return cast(Provider, implementation(runner, data_dir))
