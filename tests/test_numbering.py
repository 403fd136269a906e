"""Number patterns and allocation: every format the office uses, yearly restart, no gap, no duplicate."""

from __future__ import annotations

from datetime import UTC

import pytest

from docstore import numbering
from docstore.errors import ValidationFailed
from docstore.extensions import db
from docstore.models import Series, SeriesCounter


@pytest.mark.parametrize(
    ("pattern", "values", "expected"),
    [
        ("IN-{year}-{seq:6}", {"year": 2026, "seq": 123}, "IN-2026-000123"),
        ("RE/{year}/{seq:6}", {"year": 2026, "seq": 123}, "RE/2026/000123"),
        ("国办函〔{year}〕{seq}号", {"year": 2026, "seq": 71}, "国办函〔2026〕71号"),
        ("{year}-{dept}-{seq:4}", {"year": 2026, "seq": 42, "dept": "DG"}, "2026-DG-0042"),
        ("{code}/{year}/{seq}", {"year": 2027, "seq": 1, "code": "SAL"}, "SAL/2027/1"),
        ("IN-{year}-{seq:2}", {"year": 2026, "seq": 1234}, "IN-2026-1234"),
    ],
)
def test_pattern_formats_numbers(pattern, values, expected):
    assert numbering.parse_pattern(pattern).format(**values) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "IN-{year}",
        "IN-{seq}",
        "IN-{year}-{seq}-{seq}",
        "IN-{year}-{number}",
        "IN-{year}-{seq:0}",
        "IN-{year}-{seq:13}",
        "IN-{year:2}-{seq}",
        "IN-{year}-{seq",
        "IN-{{year}}-{seq}",
    ],
)
def test_malformed_patterns_are_refused_with_a_reason(pattern):
    with pytest.raises(ValidationFailed) as failure:
        numbering.parse_pattern(pattern)
    assert "pattern" in failure.value.errors


def test_chinese_number_has_no_leading_zeros_and_hexagonal_brackets():
    number = numbering.parse_pattern("国办函〔{year}〕{seq}号").format(year=2026, seq=7)
    assert number == "国办函〔2026〕7号"
    assert "[" not in number and "第" not in number


def test_office_year_follows_the_office_time_zone():
    from datetime import datetime

    new_years_eve_utc = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    assert numbering.office_year(new_years_eve_utc, "UTC") == 2026
    assert numbering.office_year(new_years_eve_utc, "Asia/Shanghai") == 2027


def test_counter_counts_per_series_and_restarts_each_year(app):
    series = db.session.query(Series).filter_by(code="IN").one()
    other = db.session.query(Series).filter_by(code="OUT").one()
    table = SeriesCounter.__table__
    taken = [numbering.next_sequence(table, series.id, 2026) for _ in range(3)]
    assert taken == [1, 2, 3]
    assert numbering.next_sequence(table, other.id, 2026) == 1
    assert numbering.next_sequence(table, series.id, 2027) == 1
    db.session.rollback()
    assert numbering.next_sequence(table, series.id, 2026) == 1  # a rolled-back transaction gives its numbers back
