"""Record the Graph requests of the test suite's child processes (a ``serve`` the tests start).

tests/conftest.py puts this directory on ``PYTHONPATH`` and names a file in
``GRAPH_CONTRACT_RECORD``; Python imports this module at the start of every
child process that inherits that environment. Where ``outlook_calendar_mcp``
is importable, every GraphClient built in the process appends each request it
sends to that file as one JSON line: method, URL, body, the test that started
the process (``PYTEST_CURRENT_TEST``, inherited) and the pid. The parent checks
the lines against Graph's contract. Anything else (no variable set, another
virtual environment without the package) is left untouched.
"""

import os

if os.environ.get("GRAPH_CONTRACT_RECORD"):
    try:
        from outlook_calendar_mcp.graph.client import GraphClient
    except ImportError:  # a child without the package (e.g. the langchain client's own venv)
        GraphClient = None

    if GraphClient is not None and not getattr(GraphClient, "_contract_recorded", False):
        import json

        _path = os.environ["GRAPH_CONTRACT_RECORD"]
        _test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        _original_init = GraphClient.__init__

        def _record(method, url, headers, body):
            line = json.dumps({"method": method, "url": url,
                               "body": body.decode("utf-8", "replace") if body is not None else None,
                               "test": _test, "where": f"pid {os.getpid()}"})
            with open(_path, "a", encoding="utf-8") as out:
                out.write(line + "\n")

        def _init(self, *args, **kwargs):
            _original_init(self, *args, **kwargs)
            self.on_request.append(_record)

        GraphClient.__init__ = _init
        GraphClient._contract_recorded = True
