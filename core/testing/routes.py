"""Every route of the project, read from the URL resolver and the websocket router (never listed by hand)."""
import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

KWARG = re.compile(r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # as written, joined from the resolvers ("api/hosts/^(?P<pk>[^/.]+)/$")
    view_class: type | None
    view_initkwargs: dict
    kwargs: tuple  # the names of its URL arguments, in order

    def path(self, **values):
        """A concrete path, each argument replaced by values[name] (or "1")."""
        def fill(match):
            name = match.group(2) or match.group(3)
            return str(values.get(name, "1"))
        path = KWARG.sub(fill, self.pattern)
        return "/" + re.sub(r"\^|\$|\\Z|\\", "", path).lstrip("/")

    @property
    def model(self):
        """The model of the route's object, from its view: queryset, model, or as_view(model=...)."""
        cls = self.view_class
        model = self.view_initkwargs.get("model")
        if model is None and cls is not None:
            queryset = getattr(cls, "queryset", None)
            model = queryset.model if queryset is not None else getattr(cls, "model", None)
        return model


def _walk(resolver, prefix=""):
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, pattern)
        elif isinstance(entry, URLPattern):
            yield entry, pattern


def url_routes():
    """Every URL pattern of the project but format-suffix variants (`.json`: served by the plain route)."""
    routes = []
    for entry, pattern in _walk(get_resolver()):
        if "format" in pattern:
            continue
        callback = entry.callback
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        kwargs = tuple(m.group(2) or m.group(3) for m in KWARG.finditer(pattern))
        routes.append(Route(entry.name or "", pattern, view_class, getattr(callback, "view_initkwargs", None) or {},
                            kwargs))
    return routes


def _url_router(app):
    """The URLRouter inside the ASGI app's websocket stack (middlewares keep theirs as `inner` or `app`)."""
    while not hasattr(app, "routes"):
        if hasattr(app, "application_mapping"):
            app = app.application_mapping["websocket"]
        else:
            app = getattr(app, "inner", None) or app.app
    return app


def websocket_routes():
    """Every websocket route the ASGI application serves, read from virtdeck/asgi.py's router."""
    from virtdeck.asgi import application

    routes = []
    for entry in _url_router(application).routes:
        pattern = str(entry.pattern)
        kwargs = tuple(m.group(2) or m.group(3) for m in KWARG.finditer(pattern))
        routes.append(Route(entry.name or "", pattern, None, {}, kwargs))
    return routes
