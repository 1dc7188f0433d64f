"""The OpenAPI schema, generated once per process and then served from memory.

drf-spectacular's generator is not thread-safe the first time it runs: its extensions load their
target classes lazily and two threads doing so at once see each other's half-loaded state, which
answered 500 to concurrent first requests. The schema is public and only changes with the code,
so it is built once under a lock and every later request reuses the result. The lock is the one
`servicedesk.contract` holds while it generates the same schema to check requests, so the two
never generate at once either."""
from __future__ import annotations

from django.conf import settings
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

from servicedesk.contract import generation_lock as _lock

_cache: dict[tuple, dict] = {}


def clear_cache() -> None:
    with _lock:
        _cache.clear()


class CachedSpectacularAPIView(SpectacularAPIView):
    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        language = translation.get_language() if settings.USE_I18N else None
        key = (version, language, self.serve_public, id(self.urlconf), id(self.patterns))
        schema = _cache.get(key)
        if schema is None:
            with _lock:
                schema = _cache.get(key)
                if schema is None:
                    generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
                    schema = generator.get_schema(request=request, public=self.serve_public)
                    _cache[key] = schema
        return Response(
            data=schema,
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )
