"""The daemon's read-only status page: stores, holds, items and every SKU's timeline drawn.

- `status_app(config, environ=...)`: the page as an aiohttp application to serve at `/`
  (`add_status_routes` adds it to the listener's own application instead);
- `views.Live`: what only the running daemon knows (next run, a pass running, webhook deliveries),
  with `views.FromStateFile` as the default without it;
- `chart.chart_series(explanation, zone)`: the one function from `rules explain`'s explanation to
  the chart's series;
- `serve.start(app, "127.0.0.1:8787")`: serve it on the running loop.

In the daemon, on its listener's application (before it starts)::

    add_status_routes(listener, StatusPage(lambda: daemon.config, environ=daemon.environ, clock=daemon.clock))

or on an address of its own::

    serving = await start(status_app(lambda: daemon.config, environ=daemon.environ, clock=daemon.clock), address)
"""

from __future__ import annotations

from stockstatus.core.web.app import StatusPage, add_status_routes, owns, status_app
from stockstatus.core.web.views import Deliveries, FromStateFile, Live

__all__ = ["Deliveries", "FromStateFile", "Live", "StatusPage", "add_status_routes", "owns", "status_app"]
