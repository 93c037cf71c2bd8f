"""flatten_errors: marshmallow's nested messages become one dotted path per field at fault."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.problems import flatten_errors


class IndicatorsSchema(Schema):
    migrant_workers = fields.Integer(required=True, validate=validate.Range(min=0))
    border_area = fields.Boolean(required=True)

    @validates_schema
    def consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["border_area"] and data["migrant_workers"] == 0:
            raise ValidationError("a border village with no migrant workers is unlikely")


class BodySchema(Schema):
    agencies = fields.List(fields.String(), required=True)
    indicators = fields.Nested(IndicatorsSchema, required=True)


def messages_for(body: object) -> Any:
    with pytest.raises(ValidationError) as failed:
        BodySchema().load(body)
    return failed.value.messages


def test_nested_fields_and_list_items_get_dotted_paths() -> None:
    messages = messages_for(
        {
            "agencies": ["Polres", 3, "Kodim", 4],
            "indicators": {"migrant_workers": -1, "border_area": True},
            "x": 1,
        }
    )
    assert flatten_errors(messages) == {
        "agencies.1": ["Not a valid string."],
        "agencies.3": ["Not a valid string."],
        "indicators.migrant_workers": ["Must be greater than or equal to 0."],
        "x": ["Unknown field."],
    }


def test_a_nested_schema_error_belongs_to_the_nested_field() -> None:
    messages = messages_for(
        {"agencies": ["Polres"], "indicators": {"migrant_workers": 0, "border_area": True}}
    )
    assert flatten_errors(messages) == {
        "indicators": ["a border village with no migrant workers is unlikely"]
    }


def test_a_top_level_schema_error_belongs_to_the_body() -> None:
    assert flatten_errors(messages_for([1, 2])) == {"_body": ["Invalid input type."]}


def test_a_schema_error_and_field_errors_of_one_object_merge() -> None:
    messages = {"indicators": {"_schema": ["inconsistent"], "border_area": ["Not a valid boolean."]}}
    assert flatten_errors(messages) == {
        "indicators": ["inconsistent"],
        "indicators.border_area": ["Not a valid boolean."],
    }


def test_a_bare_message_is_kept() -> None:
    assert flatten_errors("Invalid JSON.") == {"_body": ["Invalid JSON."]}
    assert flatten_errors({}) == {}
