"""Pure parts of the dashboard and report: the organizations file, the words, the period."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orchestration.alerts.quota_notes import outlook_text, quota_note_words, quota_verdict
from orchestration.dashboard import words
from orchestration.dashboard.customer_view import page_name
from orchestration.dashboard.organizations import load_directory
from orchestration.dashboard.report import NoReportDataError, ReportError, choose_period
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


def _verdict(**overrides) -> dict:
    """A row of marts.quota_outlook, as the dashboard reads it."""
    row = {
        "outlook": "reaches_cap",
        "action": "UPSELL NOW",
        "billing_month": dt.date(2026, 3, 1),
        "plan_id": "pro",
        "monthly_call_limit": 500_000,
        "used_mtd": 412_000,
        "pct_of_cap": 82.4,
        "projected_eom": 1_277_200,
        "days_to_cap": 2,
        "cap_date": dt.date(2026, 3, 12),
        "resets_on": dt.date(2026, 4, 1),
        "next_plan_id": "scale",
        "upgrade_mrr_delta": 450.0,
        "overage_cost_at_pace": 7_772.0,
        "is_plan_in_catalogue": True,
    }
    row.update(overrides)
    return quota_verdict(row)


def test_quota_note_words_the_marts_outlook_for_the_customer() -> None:
    subject, body = quota_note_words(_verdict(), name="Innovate Inc")
    assert subject == "Heads up: at this pace you reach your monthly API quota on March 12"
    assert body.startswith("Hi Innovate Inc team,\n\nYou have made 412,000 of your 500,000 calls this month.")
    assert "reach the quota in 2 days, on Mar 12, before it resets on Apr 1." in body
    assert "The scale plan gives you more headroom (+$450.00 a month)" in body


def test_quota_note_at_the_cap_and_within_it() -> None:
    subject, body = quota_note_words(
        _verdict(outlook="cap_reached", action="CRITICAL", used_mtd=500_000, pct_of_cap=100.0, cap_date=None),
        name="Megacorp",
    )
    assert subject == "You have reached your monthly API quota"
    assert "You have made 500,000 calls in March, reaching your monthly quota of 500,000." in body
    subject, body = quota_note_words(
        _verdict(
            outlook="resets_first", used_mtd=100_000, pct_of_cap=20.0, projected_eom=310_000, cap_date=None
        ),
        name="Acme",
    )
    assert subject == "Your API usage this month: 20.0% of your quota"
    assert "within your quota, which resets on Apr 1" in body
    assert "days" not in body  # a days-to-cap figure only when the cap comes first


def test_quota_note_never_offers_a_larger_plan_on_the_largest_one() -> None:
    # org_28c06f on the sample: 98.9% on Oct 31, projected within the quota, top plan.
    top = _verdict(
        outlook="resets_first",
        billing_month=dt.date(2026, 10, 1),
        monthly_call_limit=3_800,
        used_mtd=3_759,
        pct_of_cap=98.9,
        projected_eom=3_759,
        days_to_cap=0,
        cap_date=None,
        resets_on=dt.date(2026, 11, 1),
        plan_id="enterprise",
        next_plan_id=None,
        upgrade_mrr_delta=None,
        overage_cost_at_pace=0.0,
    )
    _, body = quota_note_words(top, name="Org", prices={"plan_monthly_price": 999.0, "next_plan_id": None})
    assert "larger quota" not in body and "plan gives you more headroom" not in body
    assert "You are on our largest plan; if you expect more traffic, we can agree custom terms." in body
    assert body.count("largest plan") == 1
    assert outlook_text(top) == "resets on Nov 1"


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
    with pytest.raises(NoReportDataError, match="no data for 2026-04 yet"):
        choose_period(AS_OF, month="2026-04", days=None)
    with pytest.raises(ReportError, match="YYYY-MM"):
        choose_period(AS_OF, month="March", days=None)


def test_page_names_are_safe_file_names() -> None:
    assert page_name("org_5484d1") == "org_5484d1.html"
    odd = page_name("../etc/passwd")
    assert odd.startswith("org-") and "/" not in odd and odd.endswith(".html")
    assert page_name("a b") != page_name("a_b")
