"""Pure parts of the dashboard and report: the organizations file, the words, the period."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orchestration.dashboard import words
from orchestration.dashboard.customer_view import page_name
from orchestration.dashboard.organizations import load_directory
from orchestration.dashboard.report import ReportError, choose_period
from orchestration.settings import SettingsError

AS_OF = dt.date(2026, 3, 10)


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "organizations.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_organizations_file_gives_names_and_contacts(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "organization_id,display_name,primary_contact_email\norg_1, Acme Corp ,ops@acme.example\norg_2,,\n",
    )
    directory = load_directory(path)
    assert len(directory) == 2
    assert directory.name("org_1") == "Acme Corp"
    assert directory.contact("org_1") == "ops@acme.example"
    assert directory.name("org_2") == "org_2" and directory.contact("org_2") is None
    assert directory.name("org_unknown") == "org_unknown"
    only = directory.only("org_1")
    assert len(only) == 1 and only.name("org_2") == "org_2"
    assert len(load_directory(None)) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("organization_id,display_name\norg_1,Acme\n", "lacks the column(s) primary_contact_email"),
        (
            "organization_id,display_name,primary_contact_email\norg_1,A,a@x.example\norg_1,B,b@x.example\n",
            "line 3: organization_id 'org_1' appears twice",
        ),
        (
            "organization_id,display_name,primary_contact_email\norg_1,A,not-an-email\n",
            "is not an email address",
        ),
    ],
)
def test_a_bad_organizations_file_is_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_directory(_csv(tmp_path, text))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_organizations_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_directory(tmp_path / "absent.csv")


def _account(**overrides) -> dict:
    account = {
        "usage_date": AS_OF,
        "month_end_date": dt.date(2026, 3, 31),
        "plan_id": "pro",
        "monthly_call_limit": 500_000,
        "used_mtd": 412_000,
        "pct_of_cap": 82.4,
        "projected_eom": 1_277_200,
        "days_to_cap": 2,
        "will_exceed": True,
    }
    account.update(overrides)
    return account


def test_quota_note_uses_the_display_name_and_contact() -> None:
    to, subject, body = words.quota_note(_account(), name="Innovate Inc", contact="cto@innovate.example")
    assert to == "cto@innovate.example"
    assert subject == "Heads up: you are at 82.4% of your monthly API quota"
    assert body.startswith("Hi Innovate Inc team,")
    assert "(412,000 of 500,000 calls on the pro plan)" in body
    assert "reach it in 2 days and end March at about 1,277,200 calls" in body
    assert "resets on April 1" in body


def test_quota_note_at_the_cap_and_within_it() -> None:
    _, subject, body = words.quota_note(
        _account(used_mtd=500_000, pct_of_cap=100.0, days_to_cap=0), name="Megacorp", contact=None
    )
    assert subject == "You have reached your monthly API quota"
    assert "500,000 API calls in March, 100.0% of your monthly quota" in body
    to, _, body = words.quota_note(
        _account(used_mtd=100_000, pct_of_cap=20.0, projected_eom=310_000, will_exceed=False),
        name="Acme",
        contact=None,
    )
    assert to == "the Acme team's primary contact"
    assert "within your quota" in body


def test_unknown_organization_suggests_close_ids() -> None:
    known = ["org_5484d1", "org_80b0c0", "acme_corp"]
    assert words.unknown_organization("org_5484", known).startswith(
        "no organization 'org_5484' with a call in the warehouse; did you mean org_5484d1, "
    )
    assert "`apiwh top` lists" in words.unknown_organization("zzzz", known)


def test_report_periods() -> None:
    month = choose_period(AS_OF, month="2026-02", days=None)
    assert (month.start, month.end, month.label) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28), "2026-02")
    current = choose_period(AS_OF, month="2026-03", days=None)
    assert current.end == AS_OF
    rolling = choose_period(AS_OF, month=None, days=None)
    assert (rolling.start, rolling.end) == (dt.date(2026, 2, 9), AS_OF)
    with pytest.raises(ReportError, match="no data for 2026-04 yet"):
        choose_period(AS_OF, month="2026-04", days=None)
    with pytest.raises(ReportError, match="YYYY-MM"):
        choose_period(AS_OF, month="March", days=None)


def test_page_names_are_safe_file_names() -> None:
    assert page_name("org_5484d1") == "org_5484d1.html"
    odd = page_name("../etc/passwd")
    assert odd.startswith("org-") and "/" not in odd and odd.endswith(".html")
    assert page_name("a b") != page_name("a_b")


def test_days_to_cap_text() -> None:
    assert words.days_to_cap_text(0, at_cap=True) == "at cap"
    assert words.days_to_cap_text(0) == "less than a day"
    assert words.days_to_cap_text(1) == "1 day"
    assert words.days_to_cap_text(1_052) == "1,052 days"
    assert words.days_to_cap_text(None) == "-"
