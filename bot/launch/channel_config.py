"""Switches messaging channels (and optional endpoints) on and off by their environment variables.

credentials.yml lists every channel, each configured with ``${VAR}``
references. Rasa expands them when it starts and fails on an unset one, so the
launcher writes build/credentials.yml with only the channels whose variables
are all set. endpoints.yml gets the same treatment (the Redis lock store is on
only when its variables are set). The secrets stay in the environment: the
written file still holds the ``${VAR}`` references, never their values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional

from bot import PROJECT_DIR
from bot.settings import environment

SOURCE = PROJECT_DIR / "credentials.yml"
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_][\w.]*):")


@dataclass
class Channel:
    name: str
    lines: List[str] = field(default_factory=list)

    @property
    def variables(self) -> List[str]:
        code = [line for line in self.lines if not line.lstrip().startswith("#")]
        return sorted(set(ENV_REFERENCE.findall("\n".join(code))))


def parse_channels(text: str) -> List[Channel]:
    """The top-level blocks of a credentials file, each with its leading comments."""
    channels: List[Channel] = []
    pending: List[str] = []
    for line in text.splitlines():
        match = _TOP_LEVEL_KEY.match(line)
        if match:
            channels.append(Channel(match.group(1), pending + [line]))
            pending = []
        elif channels and line.startswith((" ", "\t")):
            channels[-1].lines.append(line)
        else:
            pending.append(line)  # comments and blank lines go with the next block
    return channels


def select(text: str, env: Mapping[str, str]) -> "tuple[str, Dict[str, List[str]]]":
    """(credentials text with the enabled channels, {disabled channel: its unset variables})."""
    kept: List[str] = []
    disabled: Dict[str, List[str]] = {}
    for channel in parse_channels(text):
        missing = [v for v in channel.variables if not env.get(v)]
        if missing:
            disabled[channel.name] = missing
        else:
            kept.extend(channel.lines)
    return "\n".join(kept) + "\n", disabled


def write_enabled(target: Path, env: Optional[Mapping[str, str]] = None, source: Path = SOURCE) -> Dict[str, List[str]]:
    text, disabled = select(source.read_text(encoding="utf-8"), environment() if env is None else env)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return disabled


def main() -> int:
    """Writes build/credentials.yml and build/endpoints.yml for a `rasa run` started by hand."""
    build = PROJECT_DIR / "build"
    for channel, missing in write_enabled(build / "credentials.yml").items():
        print(f"channel {channel} is off: set {', '.join(missing)} to switch it on")
    for block, missing in write_enabled(build / "endpoints.yml", source=PROJECT_DIR / "endpoints.yml").items():
        print(f"endpoint {block} is off: set {', '.join(missing)} to switch it on")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
