"""The API's JSON parser: DRF's, refusing JSON nested deeper than settings.API_JSON_MAX_DEPTH
(issue 16).

Python's json module parses nested arrays and objects by recursion: a body of 10,000 "["
raises RecursionError, which DRF does not catch (a 500). The depth is measured first,
without recursion: strings are skipped, then the brackets left are counted. A body too
deep is a 400 (ParseError) and reaches no view.
"""

import codecs
import io
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A JSON string, escapes included; possessive, so a long string costs no backtracking.
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")


def json_depth(text: str) -> int:
    """How deep the arrays and objects of `text` nest (0 for a scalar); brackets inside
    strings do not count. Meant for text about to be parsed: on broken JSON the number may be
    off, and the parser then refuses the text anyway."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for bracket in brackets:
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class DepthLimitedJSONParser(JSONParser):
    """JSONParser that answers 400 to JSON nested deeper than API_JSON_MAX_DEPTH."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read()
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError):
            text = ""  # DRF's parser refuses it below with its own message
        limit = settings.API_JSON_MAX_DEPTH
        if json_depth(text) > limit:
            raise ParseError(
                _("The JSON is nested more than %(limit)s levels deep.") % {"limit": limit}
            )
        return super().parse(io.BytesIO(raw), media_type, parser_context)
