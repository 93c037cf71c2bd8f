"""What the pages say of a refusal or a field at fault: the domain's English message, in the user's
language, with stages, actions, roles and days named as the pages name them."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from domain import rules
from domain.actors import Role, scope_problem
from domain.errors import ActionNotAllowed, InvalidInput, Message
from domain.lifecycle import Action, Stage, next_stage
from service.pages import TRANSLATIONS
from service.pages.wording import field_label, say


@pytest.fixture
def app() -> Flask:
    """The pages' catalog, without the rest of the application."""
    app = Flask(__name__)
    Babel(app, default_translation_directories=str(TRANSLATIONS))
    return app


def said(app: Flask, language: str, message: str) -> str:
    with app.test_request_context(), force_locale(language):
        return say(message)


def refusal_of(check: object, *args: object) -> str:
    with pytest.raises((InvalidInput, ActionNotAllowed)) as raised:
        check(*args)  # type: ignore[operator]
    error = raised.value
    return error.errors[next(iter(error.errors))][0] if isinstance(error, InvalidInput) else error.detail


def test_a_message_keeps_its_english_text_for_the_api() -> None:
    message = Message("{day} lies in the future", day=dt.date(2099, 1, 1))
    assert message == "2099-01-01 lies in the future"
    assert (message.template, message.values) == ("{day} lies in the future", {"day": dt.date(2099, 1, 1)})


def test_a_day_to_come_is_said_with_the_day_as_indonesians_write_it(app: Flask) -> None:
    message = refusal_of(rules.check_not_in_future, "held_on", dt.date(2099, 2, 21), dt.datetime.now(dt.UTC))
    assert said(app, "id", message) == "21 Februari 2099 belum terjadi"
    assert said(app, "en", message) == "21 February 2099 lies in the future"


def test_a_refused_action_names_the_action_and_the_stage_in_the_pages_words(app: Flask) -> None:
    message = refusal_of(next_stage, Stage.PROPOSED, Action.DESIGNATE, False)
    assert said(app, "id", message) == (
        "Tetapkan tidak dapat dilakukan sekarang: tidak berlaku untuk kasus berstatus Diusulkan"
    )
    assert said(app, "en", message) == "Designate is not allowed now: it does not apply to a Proposed case"


def test_a_role_is_named_as_the_pages_name_it(app: Flask) -> None:
    message = scope_problem(Role.OFFICER, None, "JABAR")["region_code"][0]
    assert said(app, "id", message) == "peran Petugas tidak memiliki Kanwil sendiri"


def test_a_plain_message_is_looked_up_and_an_unknown_one_stays_as_it_is(app: Flask) -> None:
    assert said(app, "id", "Missing data for required field.") == "Isian ini wajib diisi."
    assert said(app, "id", "something no catalog knows {x}") == "something no catalog knows {x}"
    assert said(app, "id", "") == ""


def test_a_field_error_points_at_the_field_as_its_form_names_it(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        assert field_label("venue") == "Venue"
        assert field_label("criteria.poverty") == "Findings (Poverty or a lack of local work)"
        assert field_label("indicators.migrant_workers") == "Migrant workers from the village"
        assert field_label("year") == "Year"
        assert field_label("something.else") == "something.else"
