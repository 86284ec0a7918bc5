"""OPTIONS answers: the route's name, description and formats.

What each route takes and answers is in the OpenAPI schema (/api/schema/), one source. DRF's SimpleMetadata
also describes a serializer's fields under "actions", building a serializer for the route, which routes that
take no body do not have (and which it would build for every OPTIONS, permission checks aside).
"""
from rest_framework.metadata import SimpleMetadata


class Metadata(SimpleMetadata):
    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
