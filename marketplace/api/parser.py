"""How views read requests: the API's Blueprint, whose safe parser answers 4xx for bodies
that would otherwise crash, and documents the body errors with each body."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import Request
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.fields import Upload
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from marketplace.api.guards import accepts_multipart
from marketplace.api.spec import document_errors
from marketplace.api.storable_text import check_text
from marketplace.api.uploads import checked_files
from marketplace.common.errors import ValidationFailed


class SafeParser(FlaskParser):
    """webargs' Flask parser, made to answer 4xx for bodies that would otherwise crash:
    nesting deep enough to exhaust the stack, integers too long to convert, text the database
    cannot store, file names no file should have and text sent where a file belongs. It also
    reads multipart bodies as one location, fields and files together ("form_and_files"), so
    an upload is one documented request body."""

    __location_map__ = {**FlaskParser.__location_map__, "form_and_files": "load_form_and_files"}

    def _raw_load_json(self, req: Request) -> Any:
        try:
            data = super()._raw_load_json(req)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise
        except (RecursionError, ValueError) as error:
            raise json.JSONDecodeError(str(error), "<body>", 0) from None  # a non-empty doc: not "missing"
        check_text(data, "")
        return data

    def load_querystring(self, req: Request, schema: ma.Schema) -> Any:
        check_text(req.args.to_dict(flat=False), "")
        return super().load_querystring(req, schema)

    def load_form(self, req: Request, schema: ma.Schema) -> Any:
        check_text(req.form.to_dict(flat=False), "")
        return super().load_form(req, schema)

    def load_files(self, req: Request, schema: ma.Schema) -> Any:
        return self._makeproxy(checked_files(req.files), schema)

    def load_form_and_files(self, req: Request, schema: ma.Schema) -> Any:
        check_text(req.form.to_dict(flat=False), "")
        file_keys = [field.data_key or name for name, field in schema.fields.items()
                     if isinstance(field, Upload)]
        as_text = {key: ["Send a file here, not text."] for key in file_keys if key in req.form}
        if as_text:  # e.g. a part whose broken header lost its file name
            raise ValidationFailed(details=as_text)
        return self._makeproxy(CombinedMultiDict([req.form, checked_files(req.files)]), schema)


_BODY_ERRORS = {"json": (400, 413, 415), "form": (413, 415), "files": (413, 415), "form_and_files": (413, 415)}
_MULTIPART_LOCATIONS = {"files", "form_and_files"}


class Blueprint(SmorestBlueprint):
    """The API's blueprints: the safe parser, and body errors documented with each body. A view
    that reads files takes its body as multipart/form-data (the body guard expects it so)."""

    ARGUMENTS_PARSER = SafeParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**SmorestBlueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "form_and_files": "multipart/form-data"}

    def arguments(self, schema, *, location: str = "json", **kwargs):
        parse = super().arguments(schema, location=location, **kwargs)
        statuses = _BODY_ERRORS.get(location, ())

        def decorator(view):
            parsing = document_errors(*statuses)(parse(view))
            return accepts_multipart(parsing) if location in _MULTIPART_LOCATIONS else parsing

        return decorator
