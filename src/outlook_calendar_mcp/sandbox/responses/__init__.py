"""Thin HTTP handlers per resource: parse the request, call the models, shape the Graph response."""
