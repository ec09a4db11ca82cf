"""YAML read the fast way: libyaml's parser when PyYAML was built with it, else the pure-Python one.

The build and every server start read datapackage.yaml, charts.yml, views.yaml, aggregates.yaml and each saved
question's header; with the pure-Python parser that was about half a second of a small build's CPU. Both parsers
give the same safe-loaded values.
"""

from __future__ import annotations

from typing import IO, Any

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(source: str | bytes | IO[str] | IO[bytes]) -> Any:
    """What `yaml.safe_load` gives, parsed by libyaml where available.

    A text that does not parse is parsed again by the pure-Python parser, so the error is the one people have
    always seen: libyaml marks an unclosed bracket at the end of the text, not on the line where it opens.
    """
    text = source.read() if hasattr(source, "read") else source
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError:
        return yaml.safe_load(text)
