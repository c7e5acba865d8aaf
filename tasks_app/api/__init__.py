"""REST API v1 (DRF): serializers, filters, views and URLs under /api/v1/.

Every view reads through tasks_app.selectors (which start from the one permission scope in
tasks_app.permissions), parses input with an input serializer, calls one service and answers
with an output serializer.
"""
