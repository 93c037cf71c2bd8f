"""The authorization matrix, against a real server (gunicorn) on SQLite and on PostgreSQL: every
operation of api.md x every role x own / sibling / other office (or region), with the status that
api.md's Roles table and error conventions give; the test walks every row.

Scopes, seen from the caller (office staff belong to BOGOR, the supervisor watches JABAR):
- own: BOGOR, the caller's office (for the regional supervisor: an office of its region);
- sibling: SUKABUMI, another office of the same region, JABAR: out of scope for BOGOR staff, in scope
  for the JABAR supervisor;
- other: SURABAYA, an office of another region, JATIM: out of everyone's scope but the auditor's;
- any: operations that name no office, national roles (auditor, admin: every office is the same to
  them), and calls without a token. A single resource of scope `any` is SURABAYA's; a list is unfiltered.

Precedence (service/http.py `permits`/`checked_before_body`, domain/rules.py): a role that may never do
an operation gets 403 before its body is read and before its case is looked up, wherever the case is;
a role that may do it gets 404 for a case (or a target's office) outside its readable scope, before the
case's stage or version is looked at. So a refused row on a case points at a case in a stage where the
action applies: had the refusal not come, the case would have changed. `PRECEDENCE` probes the order.

Lists: a row of scope own (or any) reads the caller's whole, unfiltered view; sibling and other filter
it to that office (`office=`; `region=` for the report; targets take no filter). api.md names no status
for a filter naming an office the caller may not read (`GET /candidacies?office=SURABAYA` by a BOGOR
officer); the product answers 200 with no items, as for an office without cases. That leaks nothing,
so the table asserts it. Every list row checks that nothing outside the caller's scope is listed (nor
summed: region rows and national figures), and that what is in scope is.

Two readings of api.md where it is not literal: proposing for another office (`office_code` of an
office the caller does not belong to) is 403, "authenticated but not allowed" -- offices are public
(`GET /offices`), so there is no existence to hide; a supervisor setting the target of an office of
another region is 404, as for any resource of an office the caller may not read.

Every row checks what was written: a refused row (and any read) nothing at all (ledger head, event
count, offices, users, tokens, idempotency keys); a successful command exactly one event.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from domain.accounts import AccountDraft
from domain.actors import Actor, Role
from events.schema import events, offices, users
from events.store import EventStore
from service.tables import api_tokens, idempotency_keys
from tests.conftest import ACTION_BODIES, add_test_user, proposal
from tests.server.conftest import Deployment
from tests.server.harness import Client, load_villages

# One row per operation x role x scope. Office roles and the regional supervisor have three scopes
# on every operation aimed at an office's resource; national roles, operations that name no office
# and calls without a token have one (`any`).
MATRIX = """
| operation                        | role                | scope   | status |
| -------------------------------- | ------------------- | ------- | ------ |
| GET /offices                     | officer             | any     | 200    |
| GET /offices                     | section_head        | any     | 200    |
| GET /offices                     | head_of_office      | any     | 200    |
| GET /offices                     | regional_supervisor | any     | 200    |
| GET /offices                     | auditor             | any     | 200    |
| GET /offices                     | admin               | any     | 200    |
| GET /offices                     | no token            | any     | 401    |
| POST /offices                    | officer             | any     | 403    |
| POST /offices                    | section_head        | any     | 403    |
| POST /offices                    | head_of_office      | any     | 403    |
| POST /offices                    | regional_supervisor | any     | 403    |
| POST /offices                    | auditor             | any     | 403    |
| POST /offices                    | admin               | any     | 201    |
| POST /offices                    | no token            | any     | 401    |
| PUT /offices/{code}              | officer             | own     | 403    |
| PUT /offices/{code}              | officer             | sibling | 403    |
| PUT /offices/{code}              | officer             | other   | 403    |
| PUT /offices/{code}              | section_head        | own     | 403    |
| PUT /offices/{code}              | section_head        | sibling | 403    |
| PUT /offices/{code}              | section_head        | other   | 403    |
| PUT /offices/{code}              | head_of_office      | own     | 403    |
| PUT /offices/{code}              | head_of_office      | sibling | 403    |
| PUT /offices/{code}              | head_of_office      | other   | 403    |
| PUT /offices/{code}              | regional_supervisor | own     | 403    |
| PUT /offices/{code}              | regional_supervisor | sibling | 403    |
| PUT /offices/{code}              | regional_supervisor | other   | 403    |
| PUT /offices/{code}              | auditor             | any     | 403    |
| PUT /offices/{code}              | admin               | any     | 200    |
| PUT /offices/{code}              | no token            | any     | 401    |
| POST /candidacies                | officer             | own     | 201    |
| POST /candidacies                | officer             | sibling | 403    |
| POST /candidacies                | officer             | other   | 403    |
| POST /candidacies                | section_head        | own     | 201    |
| POST /candidacies                | section_head        | sibling | 403    |
| POST /candidacies                | section_head        | other   | 403    |
| POST /candidacies                | head_of_office      | own     | 201    |
| POST /candidacies                | head_of_office      | sibling | 403    |
| POST /candidacies                | head_of_office      | other   | 403    |
| POST /candidacies                | regional_supervisor | own     | 403    |
| POST /candidacies                | regional_supervisor | sibling | 403    |
| POST /candidacies                | regional_supervisor | other   | 403    |
| POST /candidacies                | auditor             | any     | 403    |
| POST /candidacies                | admin               | any     | 403    |
| POST /candidacies                | no token            | any     | 401    |
| GET /candidacies                 | officer             | own     | 200    |
| GET /candidacies                 | officer             | sibling | 200    |
| GET /candidacies                 | officer             | other   | 200    |
| GET /candidacies                 | section_head        | own     | 200    |
| GET /candidacies                 | section_head        | sibling | 200    |
| GET /candidacies                 | section_head        | other   | 200    |
| GET /candidacies                 | head_of_office      | own     | 200    |
| GET /candidacies                 | head_of_office      | sibling | 200    |
| GET /candidacies                 | head_of_office      | other   | 200    |
| GET /candidacies                 | regional_supervisor | own     | 200    |
| GET /candidacies                 | regional_supervisor | sibling | 200    |
| GET /candidacies                 | regional_supervisor | other   | 200    |
| GET /candidacies                 | auditor             | any     | 200    |
| GET /candidacies                 | admin               | any     | 403    |
| GET /candidacies                 | no token            | any     | 401    |
| GET /candidacies/{id}            | officer             | own     | 200    |
| GET /candidacies/{id}            | officer             | sibling | 404    |
| GET /candidacies/{id}            | officer             | other   | 404    |
| GET /candidacies/{id}            | section_head        | own     | 200    |
| GET /candidacies/{id}            | section_head        | sibling | 404    |
| GET /candidacies/{id}            | section_head        | other   | 404    |
| GET /candidacies/{id}            | head_of_office      | own     | 200    |
| GET /candidacies/{id}            | head_of_office      | sibling | 404    |
| GET /candidacies/{id}            | head_of_office      | other   | 404    |
| GET /candidacies/{id}            | regional_supervisor | own     | 200    |
| GET /candidacies/{id}            | regional_supervisor | sibling | 200    |
| GET /candidacies/{id}            | regional_supervisor | other   | 404    |
| GET /candidacies/{id}            | auditor             | any     | 200    |
| GET /candidacies/{id}            | admin               | any     | 403    |
| GET /candidacies/{id}            | no token            | any     | 401    |
| GET /candidacies/{id}/events     | officer             | own     | 200    |
| GET /candidacies/{id}/events     | officer             | sibling | 404    |
| GET /candidacies/{id}/events     | officer             | other   | 404    |
| GET /candidacies/{id}/events     | section_head        | own     | 200    |
| GET /candidacies/{id}/events     | section_head        | sibling | 404    |
| GET /candidacies/{id}/events     | section_head        | other   | 404    |
| GET /candidacies/{id}/events     | head_of_office      | own     | 200    |
| GET /candidacies/{id}/events     | head_of_office      | sibling | 404    |
| GET /candidacies/{id}/events     | head_of_office      | other   | 404    |
| GET /candidacies/{id}/events     | regional_supervisor | own     | 200    |
| GET /candidacies/{id}/events     | regional_supervisor | sibling | 200    |
| GET /candidacies/{id}/events     | regional_supervisor | other   | 404    |
| GET /candidacies/{id}/events     | auditor             | any     | 200    |
| GET /candidacies/{id}/events     | admin               | any     | 403    |
| GET /candidacies/{id}/events     | no token            | any     | 401    |
| POST /candidacies/{id}/coordinate | officer             | own     | 403    |
| POST /candidacies/{id}/coordinate | officer             | sibling | 403    |
| POST /candidacies/{id}/coordinate | officer             | other   | 403    |
| POST /candidacies/{id}/coordinate | section_head        | own     | 200    |
| POST /candidacies/{id}/coordinate | section_head        | sibling | 404    |
| POST /candidacies/{id}/coordinate | section_head        | other   | 404    |
| POST /candidacies/{id}/coordinate | head_of_office      | own     | 200    |
| POST /candidacies/{id}/coordinate | head_of_office      | sibling | 404    |
| POST /candidacies/{id}/coordinate | head_of_office      | other   | 404    |
| POST /candidacies/{id}/coordinate | regional_supervisor | own     | 403    |
| POST /candidacies/{id}/coordinate | regional_supervisor | sibling | 403    |
| POST /candidacies/{id}/coordinate | regional_supervisor | other   | 403    |
| POST /candidacies/{id}/coordinate | auditor             | any     | 403    |
| POST /candidacies/{id}/coordinate | admin               | any     | 403    |
| POST /candidacies/{id}/coordinate | no token            | any     | 401    |
| POST /candidacies/{id}/socialize | officer             | own     | 403    |
| POST /candidacies/{id}/socialize | officer             | sibling | 403    |
| POST /candidacies/{id}/socialize | officer             | other   | 403    |
| POST /candidacies/{id}/socialize | section_head        | own     | 200    |
| POST /candidacies/{id}/socialize | section_head        | sibling | 404    |
| POST /candidacies/{id}/socialize | section_head        | other   | 404    |
| POST /candidacies/{id}/socialize | head_of_office      | own     | 200    |
| POST /candidacies/{id}/socialize | head_of_office      | sibling | 404    |
| POST /candidacies/{id}/socialize | head_of_office      | other   | 404    |
| POST /candidacies/{id}/socialize | regional_supervisor | own     | 403    |
| POST /candidacies/{id}/socialize | regional_supervisor | sibling | 403    |
| POST /candidacies/{id}/socialize | regional_supervisor | other   | 403    |
| POST /candidacies/{id}/socialize | auditor             | any     | 403    |
| POST /candidacies/{id}/socialize | admin               | any     | 403    |
| POST /candidacies/{id}/socialize | no token            | any     | 401    |
| POST /candidacies/{id}/assess    | officer             | own     | 403    |
| POST /candidacies/{id}/assess    | officer             | sibling | 403    |
| POST /candidacies/{id}/assess    | officer             | other   | 403    |
| POST /candidacies/{id}/assess    | section_head        | own     | 200    |
| POST /candidacies/{id}/assess    | section_head        | sibling | 404    |
| POST /candidacies/{id}/assess    | section_head        | other   | 404    |
| POST /candidacies/{id}/assess    | head_of_office      | own     | 200    |
| POST /candidacies/{id}/assess    | head_of_office      | sibling | 404    |
| POST /candidacies/{id}/assess    | head_of_office      | other   | 404    |
| POST /candidacies/{id}/assess    | regional_supervisor | own     | 403    |
| POST /candidacies/{id}/assess    | regional_supervisor | sibling | 403    |
| POST /candidacies/{id}/assess    | regional_supervisor | other   | 403    |
| POST /candidacies/{id}/assess    | auditor             | any     | 403    |
| POST /candidacies/{id}/assess    | admin               | any     | 403    |
| POST /candidacies/{id}/assess    | no token            | any     | 401    |
| POST /candidacies/{id}/designate | officer             | own     | 403    |
| POST /candidacies/{id}/designate | officer             | sibling | 403    |
| POST /candidacies/{id}/designate | officer             | other   | 403    |
| POST /candidacies/{id}/designate | section_head        | own     | 403    |
| POST /candidacies/{id}/designate | section_head        | sibling | 403    |
| POST /candidacies/{id}/designate | section_head        | other   | 403    |
| POST /candidacies/{id}/designate | head_of_office      | own     | 200    |
| POST /candidacies/{id}/designate | head_of_office      | sibling | 404    |
| POST /candidacies/{id}/designate | head_of_office      | other   | 404    |
| POST /candidacies/{id}/designate | regional_supervisor | own     | 403    |
| POST /candidacies/{id}/designate | regional_supervisor | sibling | 403    |
| POST /candidacies/{id}/designate | regional_supervisor | other   | 403    |
| POST /candidacies/{id}/designate | auditor             | any     | 403    |
| POST /candidacies/{id}/designate | admin               | any     | 403    |
| POST /candidacies/{id}/designate | no token            | any     | 401    |
| POST /candidacies/{id}/reject    | officer             | own     | 403    |
| POST /candidacies/{id}/reject    | officer             | sibling | 403    |
| POST /candidacies/{id}/reject    | officer             | other   | 403    |
| POST /candidacies/{id}/reject    | section_head        | own     | 403    |
| POST /candidacies/{id}/reject    | section_head        | sibling | 403    |
| POST /candidacies/{id}/reject    | section_head        | other   | 403    |
| POST /candidacies/{id}/reject    | head_of_office      | own     | 200    |
| POST /candidacies/{id}/reject    | head_of_office      | sibling | 404    |
| POST /candidacies/{id}/reject    | head_of_office      | other   | 404    |
| POST /candidacies/{id}/reject    | regional_supervisor | own     | 403    |
| POST /candidacies/{id}/reject    | regional_supervisor | sibling | 403    |
| POST /candidacies/{id}/reject    | regional_supervisor | other   | 403    |
| POST /candidacies/{id}/reject    | auditor             | any     | 403    |
| POST /candidacies/{id}/reject    | admin               | any     | 403    |
| POST /candidacies/{id}/reject    | no token            | any     | 401    |
| POST /candidacies/{id}/return    | officer             | own     | 403    |
| POST /candidacies/{id}/return    | officer             | sibling | 403    |
| POST /candidacies/{id}/return    | officer             | other   | 403    |
| POST /candidacies/{id}/return    | section_head        | own     | 403    |
| POST /candidacies/{id}/return    | section_head        | sibling | 403    |
| POST /candidacies/{id}/return    | section_head        | other   | 403    |
| POST /candidacies/{id}/return    | head_of_office      | own     | 200    |
| POST /candidacies/{id}/return    | head_of_office      | sibling | 404    |
| POST /candidacies/{id}/return    | head_of_office      | other   | 404    |
| POST /candidacies/{id}/return    | regional_supervisor | own     | 403    |
| POST /candidacies/{id}/return    | regional_supervisor | sibling | 403    |
| POST /candidacies/{id}/return    | regional_supervisor | other   | 403    |
| POST /candidacies/{id}/return    | auditor             | any     | 403    |
| POST /candidacies/{id}/return    | admin               | any     | 403    |
| POST /candidacies/{id}/return    | no token            | any     | 401    |
| POST /candidacies/{id}/withdraw  | officer             | own     | 403    |
| POST /candidacies/{id}/withdraw  | officer             | sibling | 403    |
| POST /candidacies/{id}/withdraw  | officer             | other   | 403    |
| POST /candidacies/{id}/withdraw  | section_head        | own     | 200    |
| POST /candidacies/{id}/withdraw  | section_head        | sibling | 404    |
| POST /candidacies/{id}/withdraw  | section_head        | other   | 404    |
| POST /candidacies/{id}/withdraw  | head_of_office      | own     | 200    |
| POST /candidacies/{id}/withdraw  | head_of_office      | sibling | 404    |
| POST /candidacies/{id}/withdraw  | head_of_office      | other   | 404    |
| POST /candidacies/{id}/withdraw  | regional_supervisor | own     | 403    |
| POST /candidacies/{id}/withdraw  | regional_supervisor | sibling | 403    |
| POST /candidacies/{id}/withdraw  | regional_supervisor | other   | 403    |
| POST /candidacies/{id}/withdraw  | auditor             | any     | 403    |
| POST /candidacies/{id}/withdraw  | admin               | any     | 403    |
| POST /candidacies/{id}/withdraw  | no token            | any     | 401    |
| PUT /targets/{office}/{year}     | officer             | own     | 403    |
| PUT /targets/{office}/{year}     | officer             | sibling | 403    |
| PUT /targets/{office}/{year}     | officer             | other   | 403    |
| PUT /targets/{office}/{year}     | section_head        | own     | 403    |
| PUT /targets/{office}/{year}     | section_head        | sibling | 403    |
| PUT /targets/{office}/{year}     | section_head        | other   | 403    |
| PUT /targets/{office}/{year}     | head_of_office      | own     | 403    |
| PUT /targets/{office}/{year}     | head_of_office      | sibling | 403    |
| PUT /targets/{office}/{year}     | head_of_office      | other   | 403    |
| PUT /targets/{office}/{year}     | regional_supervisor | own     | 200    |
| PUT /targets/{office}/{year}     | regional_supervisor | sibling | 200    |
| PUT /targets/{office}/{year}     | regional_supervisor | other   | 404    |
| PUT /targets/{office}/{year}     | auditor             | any     | 403    |
| PUT /targets/{office}/{year}     | admin               | any     | 403    |
| PUT /targets/{office}/{year}     | no token            | any     | 401    |
| GET /targets                     | officer             | own     | 200    |
| GET /targets                     | officer             | sibling | 200    |
| GET /targets                     | officer             | other   | 200    |
| GET /targets                     | section_head        | own     | 200    |
| GET /targets                     | section_head        | sibling | 200    |
| GET /targets                     | section_head        | other   | 200    |
| GET /targets                     | head_of_office      | own     | 200    |
| GET /targets                     | head_of_office      | sibling | 200    |
| GET /targets                     | head_of_office      | other   | 200    |
| GET /targets                     | regional_supervisor | own     | 200    |
| GET /targets                     | regional_supervisor | sibling | 200    |
| GET /targets                     | regional_supervisor | other   | 200    |
| GET /targets                     | auditor             | any     | 200    |
| GET /targets                     | admin               | any     | 403    |
| GET /targets                     | no token            | any     | 401    |
| GET /designations                | officer             | own     | 200    |
| GET /designations                | officer             | sibling | 200    |
| GET /designations                | officer             | other   | 200    |
| GET /designations                | section_head        | own     | 200    |
| GET /designations                | section_head        | sibling | 200    |
| GET /designations                | section_head        | other   | 200    |
| GET /designations                | head_of_office      | own     | 200    |
| GET /designations                | head_of_office      | sibling | 200    |
| GET /designations                | head_of_office      | other   | 200    |
| GET /designations                | regional_supervisor | own     | 200    |
| GET /designations                | regional_supervisor | sibling | 200    |
| GET /designations                | regional_supervisor | other   | 200    |
| GET /designations                | auditor             | any     | 200    |
| GET /designations                | admin               | any     | 403    |
| GET /designations                | no token            | any     | 401    |
| GET /reports/performance         | officer             | own     | 200    |
| GET /reports/performance         | officer             | sibling | 200    |
| GET /reports/performance         | officer             | other   | 200    |
| GET /reports/performance         | section_head        | own     | 200    |
| GET /reports/performance         | section_head        | sibling | 200    |
| GET /reports/performance         | section_head        | other   | 200    |
| GET /reports/performance         | head_of_office      | own     | 200    |
| GET /reports/performance         | head_of_office      | sibling | 200    |
| GET /reports/performance         | head_of_office      | other   | 200    |
| GET /reports/performance         | regional_supervisor | own     | 200    |
| GET /reports/performance         | regional_supervisor | sibling | 200    |
| GET /reports/performance         | regional_supervisor | other   | 200    |
| GET /reports/performance         | auditor             | any     | 200    |
| GET /reports/performance         | admin               | any     | 403    |
| GET /reports/performance         | no token            | any     | 401    |
| GET /events                      | officer             | any     | 403    |
| GET /events                      | section_head        | any     | 403    |
| GET /events                      | head_of_office      | any     | 403    |
| GET /events                      | regional_supervisor | any     | 403    |
| GET /events                      | auditor             | any     | 200    |
| GET /events                      | admin               | any     | 403    |
| GET /events                      | no token            | any     | 401    |
| GET /ledger                      | officer             | any     | 403    |
| GET /ledger                      | section_head        | any     | 403    |
| GET /ledger                      | head_of_office      | any     | 403    |
| GET /ledger                      | regional_supervisor | any     | 403    |
| GET /ledger                      | auditor             | any     | 200    |
| GET /ledger                      | admin               | any     | 403    |
| GET /ledger                      | no token            | any     | 401    |
| GET /ledger/verify               | officer             | any     | 403    |
| GET /ledger/verify               | section_head        | any     | 403    |
| GET /ledger/verify               | head_of_office      | any     | 403    |
| GET /ledger/verify               | regional_supervisor | any     | 403    |
| GET /ledger/verify               | auditor             | any     | 200    |
| GET /ledger/verify               | admin               | any     | 403    |
| GET /ledger/verify               | no token            | any     | 401    |
| GET /me                          | officer             | any     | 200    |
| GET /me                          | section_head        | any     | 200    |
| GET /me                          | head_of_office      | any     | 200    |
| GET /me                          | regional_supervisor | any     | 200    |
| GET /me                          | auditor             | any     | 200    |
| GET /me                          | admin               | any     | 200    |
| GET /me                          | no token            | any     | 401    |
| GET /users                       | officer             | any     | 403    |
| GET /users                       | section_head        | any     | 403    |
| GET /users                       | head_of_office      | any     | 403    |
| GET /users                       | regional_supervisor | any     | 403    |
| GET /users                       | auditor             | any     | 200    |
| GET /users                       | admin               | any     | 200    |
| GET /users                       | no token            | any     | 401    |
| GET /users/{username}            | officer             | any     | 403    |
| GET /users/{username}            | section_head        | any     | 403    |
| GET /users/{username}            | head_of_office      | any     | 403    |
| GET /users/{username}            | regional_supervisor | any     | 403    |
| GET /users/{username}            | auditor             | any     | 200    |
| GET /users/{username}            | admin               | any     | 200    |
| GET /users/{username}            | no token            | any     | 401    |
| GET /regions                     | officer             | any     | 200    |
| GET /regions                     | section_head        | any     | 200    |
| GET /regions                     | head_of_office      | any     | 200    |
| GET /regions                     | regional_supervisor | any     | 200    |
| GET /regions                     | auditor             | any     | 200    |
| GET /regions                     | admin               | any     | 200    |
| GET /regions                     | no token            | any     | 401    |
| POST /users                      | officer             | any     | 403    |
| POST /users                      | section_head        | any     | 403    |
| POST /users                      | head_of_office      | any     | 403    |
| POST /users                      | regional_supervisor | any     | 403    |
| POST /users                      | auditor             | any     | 403    |
| POST /users                      | admin               | any     | 201    |
| POST /users                      | no token            | any     | 401    |
| PATCH /users/{username}          | officer             | any     | 403    |
| PATCH /users/{username}          | section_head        | any     | 403    |
| PATCH /users/{username}          | head_of_office      | any     | 403    |
| PATCH /users/{username}          | regional_supervisor | any     | 403    |
| PATCH /users/{username}          | auditor             | any     | 403    |
| PATCH /users/{username}          | admin               | any     | 200    |
| PATCH /users/{username}          | no token            | any     | 401    |
| POST /users/{username}/deactivate | officer             | any     | 403    |
| POST /users/{username}/deactivate | section_head        | any     | 403    |
| POST /users/{username}/deactivate | head_of_office      | any     | 403    |
| POST /users/{username}/deactivate | regional_supervisor | any     | 403    |
| POST /users/{username}/deactivate | auditor             | any     | 403    |
| POST /users/{username}/deactivate | admin               | any     | 200    |
| POST /users/{username}/deactivate | no token            | any     | 401    |
| POST /users/{username}/reactivate | officer             | any     | 403    |
| POST /users/{username}/reactivate | section_head        | any     | 403    |
| POST /users/{username}/reactivate | head_of_office      | any     | 403    |
| POST /users/{username}/reactivate | regional_supervisor | any     | 403    |
| POST /users/{username}/reactivate | auditor             | any     | 403    |
| POST /users/{username}/reactivate | admin               | any     | 200    |
| POST /users/{username}/reactivate | no token            | any     | 401    |
| POST /users/{username}/tokens    | officer             | any     | 403    |
| POST /users/{username}/tokens    | section_head        | any     | 403    |
| POST /users/{username}/tokens    | head_of_office      | any     | 403    |
| POST /users/{username}/tokens    | regional_supervisor | any     | 403    |
| POST /users/{username}/tokens    | auditor             | any     | 403    |
| POST /users/{username}/tokens    | admin               | any     | 201    |
| POST /users/{username}/tokens    | no token            | any     | 401    |
| DELETE /users/{username}/tokens  | officer             | any     | 403    |
| DELETE /users/{username}/tokens  | section_head        | any     | 403    |
| DELETE /users/{username}/tokens  | head_of_office      | any     | 403    |
| DELETE /users/{username}/tokens  | regional_supervisor | any     | 403    |
| DELETE /users/{username}/tokens  | auditor             | any     | 403    |
| DELETE /users/{username}/tokens  | admin               | any     | 204    |
| DELETE /users/{username}/tokens  | no token            | any     | 401    |
| GET /offices/{code}/history      | officer             | any     | 200    |
| GET /offices/{code}/history      | section_head        | any     | 200    |
| GET /offices/{code}/history      | head_of_office      | any     | 200    |
| GET /offices/{code}/history      | regional_supervisor | any     | 200    |
| GET /offices/{code}/history      | auditor             | any     | 200    |
| GET /offices/{code}/history      | admin               | any     | 200    |
| GET /offices/{code}/history      | no token            | any     | 401    |
| POST /regions                    | officer             | any     | 403    |
| POST /regions                    | section_head        | any     | 403    |
| POST /regions                    | head_of_office      | any     | 403    |
| POST /regions                    | regional_supervisor | any     | 403    |
| POST /regions                    | auditor             | any     | 403    |
| POST /regions                    | admin               | any     | 201    |
| POST /regions                    | no token            | any     | 401    |
| PUT /regions/{code}              | officer             | any     | 403    |
| PUT /regions/{code}              | section_head        | any     | 403    |
| PUT /regions/{code}              | head_of_office      | any     | 403    |
| PUT /regions/{code}              | regional_supervisor | any     | 403    |
| PUT /regions/{code}              | auditor             | any     | 403    |
| PUT /regions/{code}              | admin               | any     | 200    |
| PUT /regions/{code}              | no token            | any     | 401    |
"""

# Rows where the product answers otherwise than api.md, until the product is fixed:
# (operation, role, scope) -> what it answers instead. Each becomes a strict xfail.
DISAGREEMENTS: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Row:
    operation: str
    role: str
    scope: str
    status: int

    def __str__(self) -> str:
        return f"{self.operation} | {self.role} | {self.scope} -> {self.status}"


def parse(table: str) -> list[Row]:
    rows = []
    for line in table.strip().splitlines()[2:]:
        operation, role, scope, status = (cell.strip() for cell in line.strip().strip("|").split("|"))
        rows.append(Row(operation, role, scope, int(status)))
    return rows


ROWS = parse(MATRIX)

ACTIONS = tuple(ACTION_BODIES)  # coordinate, socialize, assess, designate, reject, return, withdraw
# Each an event on the user's stream (an administrator's, aimed at a fresh account when it succeeds).
ACCOUNT_WRITES = (
    "POST /users",
    "PATCH /users/{username}",
    "POST /users/{username}/deactivate",
    "POST /users/{username}/reactivate",
    "POST /users/{username}/tokens",
    "DELETE /users/{username}/tokens",
)
ORGANISATION_OPERATIONS = ("GET /offices/{code}/history", "POST /regions", "PUT /regions/{code}")
OPERATIONS = (
    "GET /offices",
    "POST /offices",
    "PUT /offices/{code}",
    "POST /candidacies",
    "GET /candidacies",
    "GET /candidacies/{id}",
    "GET /candidacies/{id}/events",
    *(f"POST /candidacies/{{id}}/{action}" for action in ACTIONS),
    "PUT /targets/{office}/{year}",
    "GET /targets",
    "GET /designations",
    "GET /reports/performance",
    "GET /events",
    "GET /ledger",
    "GET /ledger/verify",
    "GET /me",
    "GET /users",
    "GET /users/{username}",
    "GET /regions",
    *ACCOUNT_WRITES,
    *ORGANISATION_OPERATIONS,
)
UNSCOPED = {
    "GET /offices",
    "POST /offices",
    "GET /events",
    "GET /ledger",
    "GET /ledger/verify",
    "GET /me",
    "GET /users",
    "GET /users/{username}",
    "GET /regions",
    *ACCOUNT_WRITES,
    *ORGANISATION_OPERATIONS,
}
OFFICE_ROLES = ("officer", "section_head", "head_of_office")
ROLES = (*OFFICE_ROLES, "regional_supervisor", "auditor", "admin", "no token")
NATIONAL = ("auditor", "admin", "no token")
EVENT_WRITES = {
    *ACCOUNT_WRITES,
    "POST /regions",
    "PUT /regions/{code}",
    "POST /candidacies",
    "PUT /targets/{office}/{year}",
    *(f"POST /candidacies/{{id}}/{action}" for action in ACTIONS),
}
OFFICE_WRITES = {"POST /offices", "PUT /offices/{code}"}

# Who plays each role (tests/conftest.py USERS); `no token` sends no Authorization header.
USER = {
    "officer": "officer",
    "section_head": "section_head",
    "head_of_office": "head",
    "regional_supervisor": "supervisor",
    "auditor": "auditor",
    "admin": "admin",
    "no token": None,
}
SCOPE_OFFICE = {"own": "BOGOR", "sibling": "SUKABUMI", "other": "SURABAYA", "any": "SURABAYA"}
HOME_OFFICES = ("BOGOR", "SUKABUMI", "SURABAYA")
REGION = {"BOGOR": "JABAR", "SUKABUMI": "JABAR", "SURABAYA": "JATIM"}
YEAR = 2024  # the year of ACTION_BODIES' dates: decrees, and the targets set here
# The lists of cases and figures: the parameters every call sends, and the filter naming the scope.
LIST_PARAMS: dict[str, dict[str, Any]] = {
    "GET /candidacies": {"limit": 500},
    "GET /targets": {"year": YEAR, "limit": 500},
    "GET /designations": {"limit": 500},
    "GET /reports/performance": {"year": YEAR},
}
LIST_FILTER = {
    "GET /candidacies": "office",
    "GET /targets": None,
    "GET /designations": "office",
    "GET /reports/performance": "region",
}

# Who moves the cases of each office along (four-eyes: the approver neither proposed nor assessed).
EXTRA_USERS = {
    "sukabumi_section_head": (Role.SECTION_HEAD, "SUKABUMI"),
    "surabaya_head": (Role.HEAD_OF_OFFICE, "SURABAYA"),
}
PROPOSER = {"BOGOR": "officer", "SUKABUMI": "sukabumi_officer", "SURABAYA": "surabaya_section_head"}
ASSESSOR = {"BOGOR": "section_head", "SUKABUMI": "sukabumi_section_head", "SURABAYA": "surabaya_section_head"}
APPROVER = {"BOGOR": "head", "SUKABUMI": "sukabumi_head", "SURABAYA": "surabaya_head"}
STAGES = ("proposed", "coordinated", "socialized", "assessed", "designated")
STEP = {
    "coordinated": "coordinate",
    "socialized": "socialize",
    "assessed": "assess",
    "designated": "designate",
}
APPLIES_IN = {
    "coordinate": "proposed",
    "socialize": "coordinated",
    "assess": "socialized",
    "designate": "assessed",
    "reject": "assessed",
    "return": "assessed",
    "withdraw": "proposed",
}
STAGE_AFTER = {
    "coordinate": "coordinated",
    "socialize": "socialized",
    "assess": "assessed",
    "designate": "designated",
    "reject": "rejected",
    "return": "socialized",
    "withdraw": "withdrawn",
}


def may_read(caller: Actor | None, office_code: str, region_code: str) -> bool:
    """api.md's Roles table: office staff read their office, a supervisor its region, the auditor all."""
    if caller is None:
        return False
    if caller.role in (Role.OFFICER, Role.SECTION_HEAD, Role.HEAD_OF_OFFICE):
        return caller.office_code == office_code
    if caller.role is Role.REGIONAL_SUPERVISOR:
        return caller.region_code == region_code
    return caller.role is Role.AUDITOR


@dataclass(frozen=True)
class Snapshot:
    """Everything a request could write, seen behind the server's back."""

    position: int
    digest: str
    events: int
    offices: tuple[Any, ...]
    users: int
    tokens: int
    idempotency_keys: int


def snapshot(deployment: Deployment) -> Snapshot:
    def count(table: Any) -> int:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()

    with deployment.application.db.read() as conn:
        head = EventStore().head(conn)
        rows = tuple(tuple(r) for r in conn.execute(select(offices).order_by(offices.c.code)))
        return Snapshot(
            head.position,
            head.hash,
            count(events),
            rows,
            count(users),
            count(api_tokens),
            count(idempotency_keys),
        )


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    case_id: str | None = None
    office: str | None = None  # the office a scoped row aims at; None: every office (an unfiltered list)


@dataclass
class Matrix:
    """One deployment's cast: a case of each office in each stage, a target and a designation of each
    office, and a spare office for the admin to change. Rows that succeed get fresh resources."""

    deployment: Deployment
    client: Client
    session: requests.Session
    villages: dict[str, Iterator[str]]
    cases: dict[tuple[str, str], str] = field(default_factory=dict)
    numbers: Iterator[int] = field(default_factory=itertools.count)
    walked: int = 0
    started: float = field(default_factory=time.monotonic)
    spare_office: str = "MATRIX-SPARE"

    def write(self, username: str, method: str, path: str, body: dict[str, Any], status: int) -> Any:
        answer = self.client.write(username, method, path, body).answer
        assert answer is not None and answer.status == status, (username, method, path, answer)
        return answer.body

    def case_in(self, office: str, stage: str) -> str:
        village = next(self.villages[office])
        case_id = self.write(PROPOSER[office], "POST", "/candidacies", proposal(village, office), 201)["id"]
        for reached in STAGES[1 : STAGES.index(stage) + 1]:
            action = STEP[reached]
            actor = APPROVER[office] if action == "designate" else ASSESSOR[office]
            path = f"/candidacies/{case_id}/{action}"
            assert self.write(actor, "POST", path, ACTION_BODIES[action], 200)["stage"] == reached
        return case_id

    def caller(self, role: str) -> Actor | None:
        username = USER[role]
        return self.deployment.world.actors[username] if username else None

    def send(self, role: str, call: Call) -> requests.Response:
        username = USER[role]
        headers = dict(call.headers)
        if username is not None:
            headers["Authorization"] = f"Bearer {self.deployment.world.tokens[username]}"
        return self.session.request(
            call.method,
            f"{self.deployment.server.url}/api/v1{call.path}",
            params=call.params,
            json=call.body,
            headers=headers,
            timeout=30,
        )

    def new_user(self) -> dict[str, Any]:
        n = next(self.numbers)
        return {"username": f"matrix.{n}", "name": f"Matrix {n}", "role": "officer", "office_code": "BOGOR"}

    def account_for(self, op: str) -> str:
        """A fresh account in the state the operation applies to (deactivated, to reactivate it)."""
        user = self.write("admin", "POST", "/users", self.new_user(), 201)["username"]
        if op == "POST /users/{username}/reactivate":
            self.write("admin", "POST", f"/users/{user}/deactivate", {"reason": "matrix"}, 200)
        if op == "DELETE /users/{username}/tokens":
            self.write("admin", "POST", f"/users/{user}/tokens", {}, 201)
        return user

    def new_office(self) -> dict[str, Any]:
        return {
            "code": f"MATRIX-{next(self.numbers)}",
            "name": "Kantor Imigrasi Uji",
            "region_code": "JATENG",
            "region_name": "Kanwil Jawa Tengah",
            "regencies": ["33.01"],
            "take_over": True,  # from the office that served it before (one office per regency)
        }


@pytest.fixture(scope="module")
def matrix(deployment: Deployment) -> Iterator[Matrix]:
    application = deployment.application
    for username, (role, office) in EXTRA_USERS.items():
        name = username.replace("_", " ").title()
        draft = AccountDraft(username, name, role, office, None)
        deployment.world.tokens[username], deployment.world.actors[username] = add_test_user(
            application, draft
        )
    surabaya = load_villages(application, {"35.78": "Kota Surabaya"}, 40)["35.78"]
    load_villages(application, {"33.01": "Kabupaten Cilacap"}, 0)  # the regency of the offices added
    villages = {
        "BOGOR": deployment.villages,
        "SUKABUMI": deployment.sukabumi_villages,
        "SURABAYA": iter(surabaya),
    }
    m = Matrix(deployment, deployment.client(), requests.Session(), villages)
    for office in HOME_OFFICES:
        for stage in STAGES:
            m.cases[(office, stage)] = m.case_in(office, stage)
        supervisor = "jatim_supervisor" if REGION[office] == "JATIM" else "supervisor"
        m.write(supervisor, "PUT", f"/targets/{office}/{YEAR}", {"target": 4, "basis": "SK 1/2024"}, 200)
    spare = {**m.new_office(), "code": m.spare_office}
    m.write("admin", "POST", "/offices", spare, 201)
    assert not m.client.server_errors, m.client.server_errors
    yield m
    m.session.close()


# ---- what each row sends ---------------------------------------------------------------------------


def call_for(m: Matrix, row: Row) -> Call:
    """The request of the row, aimed at a resource that the row would change if it were not refused."""
    office = SCOPE_OFFICE[row.scope]
    succeeds = row.status < 300
    op = row.operation
    if op == "GET /offices":
        return Call("GET", "/offices", {"limit": 500})
    if op == "POST /offices":
        return Call("POST", "/offices", body=m.new_office())
    if op == "PUT /offices/{code}":
        code = m.spare_office if row.role == "admin" else office
        body = {k: v for k, v in m.new_office().items() if k != "code"}
        body["name"] = f"Renamed by {row.role} ({row.scope})"
        return Call("PUT", f"/offices/{code}", body=body, office=code)
    if op == "POST /candidacies":
        return Call("POST", "/candidacies", body=proposal(next(m.villages[office]), office), office=office)
    if op in LIST_FILTER:
        # own and any: the caller's whole view, unfiltered; sibling and other: filtered to that office
        # (its region for the report; targets take no such filter).
        params = dict(LIST_PARAMS[op])
        filtered = row.scope in ("sibling", "other") and LIST_FILTER[op] is not None
        if filtered:
            params[LIST_FILTER[op]] = REGION[office] if LIST_FILTER[op] == "region" else office
        return Call("GET", op.removeprefix("GET "), params, office=office if filtered else None)
    if op in ("GET /candidacies/{id}", "GET /candidacies/{id}/events"):
        case_id = m.cases[(office, "proposed")]
        suffix = "/events" if op.endswith("/events") else ""
        return Call("GET", f"/candidacies/{case_id}{suffix}", case_id=case_id, office=office)
    if op.startswith("POST /candidacies/{id}/"):
        action = op.rsplit("/", 1)[1]
        stage = APPLIES_IN[action]
        case_id = m.case_in(office, stage) if succeeds else m.cases[(office, stage)]
        path = f"/candidacies/{case_id}/{action}"
        return Call("POST", path, body=ACTION_BODIES[action], case_id=case_id, office=office)
    if op == "PUT /targets/{office}/{year}":
        body = {"target": 10 + next(m.numbers), "basis": f"Surat {row.role} {row.scope}"}
        return Call("PUT", f"/targets/{office}/{YEAR}", body=body, office=office)
    if op == "GET /events":
        return Call("GET", "/events", {"limit": 5})
    if op in ("GET /ledger", "GET /ledger/verify", "GET /me"):
        return Call("GET", op.removeprefix("GET "))
    if op == "GET /users":
        return Call("GET", "/users", {"limit": 500})
    if op == "GET /users/{username}":
        return Call("GET", "/users/officer")
    if op == "GET /regions":
        return Call("GET", "/regions")
    if op == "GET /offices/{code}/history":
        return Call("GET", "/offices/BOGOR/history")
    if op == "POST /regions":
        return Call("POST", "/regions", body={"code": f"REGION-{next(m.numbers)}", "name": "Kanwil Uji"})
    if op == "PUT /regions/{code}":
        return Call(
            "PUT", "/regions/JATENG", body={"name": f"Kanwil Jawa Tengah ({row.role} {next(m.numbers)})"}
        )
    if op == "POST /users":
        return Call("POST", "/users", body=m.new_user())
    if op in ACCOUNT_WRITES:
        # Refused rows aim at a real account, which they must leave alone.
        username = m.account_for(op) if succeeds else "officer"
        method, path = op.split(" ", 1)
        bodies = {
            "PATCH /users/{username}": {"name": f"Renamed by {row.role}"},
            "POST /users/{username}/deactivate": {"reason": "matrix"},
            "POST /users/{username}/reactivate": {"reason": "matrix"},
            "POST /users/{username}/tokens": {"expires_in_days": 7},
        }
        return Call(method, path.replace("{username}", username), body=bodies.get(op))
    raise AssertionError(f"no request for {op}")


# ---- what a successful answer must hold --------------------------------------------------------------


def aimed_at(call: Call) -> tuple[str, ...]:
    return (call.office,) if call.office else HOME_OFFICES


def check_listed(
    m: Matrix, row: Row, call: Call, items: list[dict[str, Any]], markers: dict[str, Any], key: str
) -> None:
    """Nothing outside the caller's scope is listed; what the row aims at is listed iff it is in scope."""
    caller = m.caller(row.role)
    outside = [item[key] for item in items if not may_read(caller, item["office_code"], item["region_code"])]
    assert not outside, f"{row}: listed outside the caller's scope: {outside}"
    listed = {item[key] for item in items}
    for office in aimed_at(call):
        expected = may_read(caller, office, REGION[office])
        assert (markers[office] in listed) is expected, (
            f"{row}: {office}'s {markers[office]} listed: {not expected}"
        )
    if "office" in call.params and not may_read(caller, call.office, REGION[call.office]):  # type: ignore[index]
        assert items == [], f"{row}: a filter on an office out of scope lists {len(items)} rows"


def check_success(m: Matrix, row: Row, call: Call, response: requests.Response) -> None:
    op = row.operation
    if op == "DELETE /users/{username}/tokens":
        assert response.content == b""
        username = call.path.split("/")[2]
        assert m.write("admin", "GET", f"/users/{username}", {}, 200)["token_expires_at"] is None
        return
    body = response.json()
    caller = m.caller(row.role)
    if op == "GET /offices":
        assert set(HOME_OFFICES) <= {o["code"] for o in body["items"]}
    elif op in OFFICE_WRITES:
        assert body["name"] == call.body["name"]  # type: ignore[index]
        code = call.path.rsplit("/", 1)[1] if op.startswith("PUT") else call.body["code"]  # type: ignore[index]
        assert body["code"] == code
    elif op == "POST /candidacies":
        assert body["stage"] == "proposed" and body["office_code"] == call.office
        assert response.headers["Location"].endswith(body["id"]) and response.headers["ETag"] == '"1"'
    elif op in ("GET /candidacies", "GET /designations"):
        assert body["next_cursor"] is None
        markers = {
            o: m.cases[(o, "proposed" if op == "GET /candidacies" else "designated")] for o in HOME_OFFICES
        }
        key = "id" if op == "GET /candidacies" else "candidacy_id"
        check_listed(m, row, call, body["items"], markers, key)
    elif op == "GET /candidacies/{id}":
        assert body["id"] == call.case_id and response.headers["ETag"] == f'"{body["version"]}"'
    elif op == "GET /candidacies/{id}/events":
        assert body["items"] and {e["stream_id"] for e in body["items"]} == {call.case_id}
    elif op.startswith("POST /candidacies/{id}/"):
        assert body["id"] == call.case_id and body["stage"] == STAGE_AFTER[op.rsplit("/", 1)[1]]
    elif op == "PUT /targets/{office}/{year}":
        assert (body["office_code"], body["year"], body["target"]) == (call.office, YEAR, call.body["target"])  # type: ignore[index]
    elif op == "GET /targets":
        assert body["next_cursor"] is None
        check_listed(m, row, call, body["items"], {o: o for o in HOME_OFFICES}, "office_code")
    elif op == "GET /reports/performance":
        check_listed(m, row, call, body["offices"], {o: o for o in HOME_OFFICES}, "office_code")
        for region in body["regions"]:
            whole = caller is not None and (
                caller.role is Role.AUDITOR or caller.region_code == region["region_code"]
            )
            assert whole, f"{row}: a sum over region {region['region_code']}, not all of it in scope"
        national = caller is not None and caller.role is Role.AUDITOR and "region" not in call.params
        assert (body["national"] is not None) is national, f"{row}: national figures: {body['national']}"
    elif op == "GET /events":
        assert body["items"] and body["ledger"]["position"] >= body["items"][-1]["position"]
    elif op == "GET /ledger":
        assert body["position"] == snapshot(m.deployment).position
    elif op == "GET /ledger/verify":
        assert body["ok"] is True and body["first_bad_position"] is None and body["checked"] > 0
    elif op == "GET /me":
        assert body["username"] == USER[row.role] and "token" not in body
    elif op == "GET /users":
        assert set(USER.values()) - {None} <= {u["username"] for u in body["items"]}
    elif op == "GET /users/{username}":
        assert body["username"] == "officer" and body["id"]
    elif op == "GET /regions":
        assert {"JABAR", "JATIM"} <= {r["code"] for r in body["items"]}
    elif op == "GET /offices/{code}/history":
        assert body["items"] and all(i["office"]["code"] == "BOGOR" for i in body["items"])
    elif op in ("POST /regions", "PUT /regions/{code}"):
        assert body["name"] == call.body["name"]  # type: ignore[index]
    elif op == "POST /users":
        assert body["username"] == call.body["username"] and response.headers["Location"].endswith(
            body["username"]
        )  # type: ignore[index]
    elif op == "PATCH /users/{username}":
        assert body["name"] == call.body["name"]  # type: ignore[index]
    elif op in ("POST /users/{username}/deactivate", "POST /users/{username}/reactivate"):
        assert body["active"] is op.endswith("reactivate")
    elif op == "POST /users/{username}/tokens":
        assert body["token"] and body["token_id"] and body["expires_at"]
    else:
        raise AssertionError(f"no check for {op}")


def check_problem(row: Row, response: requests.Response) -> None:
    assert response.headers["Content-Type"].startswith("application/problem+json"), (
        f"{row}: {response.headers}"
    )
    assert response.json()["status"] == row.status
    if row.status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def check_written(row: Row, before: Snapshot, after: Snapshot) -> None:
    succeeded = row.status < 300
    if succeeded and row.operation in EVENT_WRITES:
        assert (after.position, after.events) == (before.position + 1, before.events + 1), (
            f"{row}: not one event"
        )
        assert after.offices == before.offices
    elif succeeded and row.operation in OFFICE_WRITES:
        # The office's event, and the event of each office it took a regency from.
        assert after.offices != before.offices and after.position > before.position, f"{row}"
        assert after.events - before.events == after.position - before.position
    else:
        assert after == before, f"{row}: refused (or only read), yet something was written"


def matrix_params() -> Iterator[Any]:
    for row in ROWS:
        reason = DISAGREEMENTS.get((row.operation, row.role, row.scope))
        marks = [pytest.mark.xfail(strict=True, reason=f"product: {reason}")] if reason else []
        ident = f"{row.operation}|{row.role}|{row.scope}".replace(" ", "_")
        yield pytest.param(row, id=ident, marks=marks)


# ---- the tests -------------------------------------------------------------------------------------


def test_the_table_has_one_row_per_operation_role_and_scope() -> None:
    expected = [
        (op, role, scope)
        for op in OPERATIONS
        for role in ROLES
        for scope in (("any",) if op in UNSCOPED or role in NATIONAL else ("own", "sibling", "other"))
    ]
    assert [(r.operation, r.role, r.scope) for r in ROWS] == expected
    assert all(r.status in (200, 201, 204, 401, 403, 404) for r in ROWS)


@pytest.mark.parametrize("row", list(matrix_params()))
def test_matrix_row(matrix: Matrix, row: Row) -> None:
    matrix.walked += 1
    call = call_for(matrix, row)
    before = snapshot(matrix.deployment)

    response = matrix.send(row.role, call)

    after = snapshot(matrix.deployment)
    assert response.status_code == row.status, f"{row}: got {response.status_code} {response.text[:300]}"
    if row.status >= 400:
        check_problem(row, response)
    else:
        check_success(matrix, row, call, response)
    check_written(row, before, after)


# Which refusal comes first: (role, method, path, body, headers, status). `{OFFICE_stage}` is a case of
# that office in that stage, `{unknown}` an id no case has. INVALID fails validation (an unknown field).
INVALID: dict[str, Any] = {"no_such_field": 1}
COORDINATE = ACTION_BODIES["coordinate"]
STALE = {"If-Match": '"99"'}
PRECEDENCE = [
    # A role that may never do it: 403 before the body is validated and before the case is looked up.
    ("officer", "POST", "/candidacies/{BOGOR_proposed}/coordinate", INVALID, {}, 403),
    ("officer", "POST", "/candidacies/{unknown}/coordinate", COORDINATE, {}, 403),
    ("officer", "POST", "/candidacies/{SURABAYA_proposed}/coordinate", INVALID, STALE, 403),
    ("section_head", "POST", "/candidacies/{SURABAYA_assessed}/designate", INVALID, {}, 403),
    ("supervisor", "POST", "/candidacies/{BOGOR_proposed}/withdraw", INVALID, {}, 403),
    ("admin", "GET", "/candidacies/{unknown}", None, {}, 403),
    ("admin", "GET", "/candidacies/not-a-uuid/events", None, {}, 403),
    ("auditor", "POST", "/candidacies", INVALID, {}, 403),
    ("officer", "PUT", "/targets/SURABAYA/2024", INVALID, {}, 403),
    ("supervisor", "POST", "/offices", INVALID, {}, 403),
    ("head", "PUT", "/offices/NO-SUCH-OFFICE", INVALID, {}, 403),
    # A role that may: a case out of scope is 404 before its stage (409) or its version (412) counts,
    # the same answer as for a case that does not exist.
    ("head", "POST", "/candidacies/{SURABAYA_assessed}/coordinate", COORDINATE, {}, 404),
    ("head", "POST", "/candidacies/{SUKABUMI_proposed}/coordinate", COORDINATE, STALE, 404),
    ("head", "POST", "/candidacies/{unknown}/coordinate", COORDINATE, {}, 404),
    ("supervisor", "GET", "/candidacies/{SURABAYA_designated}/events", None, {}, 404),
    ("supervisor", "PUT", "/targets/SURABAYA/2024", {"target": 1, "basis": "x"}, STALE, 404),
]


@pytest.mark.parametrize(
    ("username", "method", "path", "body", "headers", "status"),
    PRECEDENCE,
    ids=[f"{p[0]}-{p[1]}-{p[2]}-{p[5]}" for p in PRECEDENCE],
)
def test_which_refusal_comes_first(
    matrix: Matrix,
    username: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
    status: int,
) -> None:
    names = {f"{office}_{stage}": case_id for (office, stage), case_id in matrix.cases.items()}
    target = path.format(unknown=uuid.uuid4(), **names)
    before = snapshot(matrix.deployment)

    response = matrix.session.request(
        method,
        f"{matrix.deployment.server.url}/api/v1{target}",
        json=body,
        headers={**headers, "Authorization": f"Bearer {matrix.deployment.world.tokens[username]}"},
        timeout=30,
    )

    assert response.status_code == status, f"{username} {method} {path}: {response.text[:300]}"
    assert response.json()["status"] == status
    assert snapshot(matrix.deployment) == before


def test_every_row_was_walked(matrix: Matrix, request: pytest.FixtureRequest, record_property: Any) -> None:
    """Runs after the rows of its database (pytest groups a module-scoped parameter's tests)."""
    backend = request.node.callspec.params["deployment"]
    selected = [
        item
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_matrix_row"
        and item.callspec.params["deployment"] == backend
    ]
    seconds = time.monotonic() - matrix.started
    record_property(f"matrix_rows_walked_{backend}", matrix.walked)
    print(f"\n{backend}: walked {matrix.walked} of {len(ROWS)} matrix rows in {seconds:.1f} s")
    assert matrix.walked == len(selected), (
        f"{backend}: walked {matrix.walked} of {len(selected)} selected rows"
    )
