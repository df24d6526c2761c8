"""A local stand-in for a messaging platform's API on 127.0.0.1 (the one kind of fake the tests allow)."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple
from urllib.parse import parse_qs

from tests.support.http import LocalServer, QuietHandler


class FakePlatform(LocalServer):
    """Records every request and answers from `routes`: {path suffix: JSON}."""

    def __init__(self, routes: Dict[str, Any]) -> None:
        self.requests: List[Tuple[str, Dict[str, Any]]] = []
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kind = self.headers.get("Content-Type", "")
                if "json" in kind:
                    data = json.loads(body or b"{}")
                elif "urlencoded" in kind:
                    data = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                else:
                    data = {"raw": body.decode(errors="replace")}
                fake.requests.append((self.path, data))
                answer = next((v for k, v in routes.items() if self.path.endswith(k)), {"ok": True})
                self.reply(200, json.dumps(answer).encode(), "application/json")

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.do_POST()

        super().__init__(Handler)

    def calls(self, method: str) -> List[Dict[str, Any]]:
        return [data for path, data in self.requests if path.endswith(method)]
