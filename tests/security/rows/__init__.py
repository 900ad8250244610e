"""Access-matrix rows and world objects contributed by each app, one module per app
(`tests/security/rows/<app>.py`), so a new app adds its endpoints without editing the shared table.

A module may define:
- `API`, `PAGES` (dicts of (method, path) -> access_table.Rule) and `WEBSOCKETS` (path -> roles);
- `make_fresh(kit) -> dict[str, callable]`: makers of the app's objects of organization A, each
  returning the new object's id through `kit.remember(kind, id)`. `kit` has `client`, `actors`
  (e.g. kit.actors["A:manager"].api(kit.client, "POST", path, body)), `members` (the users), `ok`
  (asserts a 2xx and returns the JSON), `objects` (what exists so far, e.g. objects["wallet"]).
"""

import importlib
import pkgutil


def app_row_modules():
    return [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)]
