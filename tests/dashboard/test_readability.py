"""Issue 16, points 6 and 8: the dashboard and the equipment as a supervisor reads them.

- the trend chart's day labels stay inside the chart (the last one was cut: "05.1");
- "surrendered in the period" and the funnel's last step are told apart, with why they differ;
- rewards of the period and rewards still due (all time) are separate tables;
- percentages are written the interface language's way (66.7% / 66,7 %);
- equipment types have a Ukrainian name, shown in the Ukrainian interface.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from hotline.dashboard.charts import _labelled, trend_svg
from hotline.dashboard.metrics import ResponseStats
from hotline.desk import services
from hotline.models import EquipmentType, Stage
from tests.factories import make_case, make_operator, receive
from tests.pages import login

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
NBSP = "\u00a0"


@pytest.mark.parametrize("days", range(1, 32))
def test_every_chart_has_its_last_day_labelled_and_no_label_past_an_edge(days):
    chosen = _labelled(days)
    indexes = [i for i, _anchor in chosen]
    assert indexes[0] == 0 and indexes[-1] == days - 1 and len(chosen) <= 9
    assert indexes == sorted(set(indexes))
    if days > 1:
        assert chosen[0][1] == "start" and chosen[-1][1] == "end"
        assert all(anchor == "middle" for _i, anchor in chosen[1:-1])
        gaps = [b - a for a, b in itertools.pairwise(indexes)]
        assert min(gaps) * 2 >= max(gaps) - 1  # no two labels crowd each other


def test_the_svg_draws_the_last_date_anchored_at_its_end():
    start = datetime(2026, 11, 6, tzinfo=UTC).date()
    trend = [ResponseStats(key=start + timedelta(days=i), label="", received=1, answered=1, median_s=3600, p90_s=7200,
                           max_s=7200) for i in range(30)]
    svg = str(trend_svg(trend, 24 * 3600))
    assert '<text x="708.0" y="232" class="tick" text-anchor="end">05.12</text>' in svg
    assert 'text-anchor="start">06.11</text>' in svg


@pytest.fixture
def period_figures(supervisor):
    """Opened in the period: 3 cases (2 answered within the SLA, 1 after 30 h). Surrendered in the
    period: one case opened 20 days ago, with a tank (reward due, all time). Paid in the period: none."""
    olena = make_operator("olena", capacity=20)
    tank = EquipmentType.objects.get(name="Tank")
    with time_machine.travel(NOW - timedelta(days=20), tick=False):
        old = make_case(Stage.PLANNING, owner=olena)
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        services.case_record_surrender(actor=olena, case_id=old.pk, surrendered_at=NOW - timedelta(days=2, hours=1),
                                       place="Sector 4", equipment={tank.pk: 1})
    for start, hours in ((NOW - timedelta(days=4), 1), (NOW - timedelta(days=4), 2), (NOW - timedelta(days=5), 30)):
        with time_machine.travel(start, tick=False):
            case = receive(at=start).case
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            services.case_reply(actor=olena, case_id=case.pk, text="Мы на связи")
    return supervisor


def _dashboard(client, supervisor, language: str) -> str:
    login(client, supervisor, language=language)
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse("dashboard") + "?period=7d").content.decode()


def test_percentages_are_written_the_interface_languages_way(client, period_figures):
    english = _dashboard(client, period_figures, "en")
    assert '<span class="big">66.7%</span>answered within the SLA' in english
    ukrainian = _dashboard(client, period_figures, "uk")
    assert f'<span class="big">66,7{NBSP}%</span>' in ukrainian and "66.7%" not in ukrainian


def test_surrendered_in_the_period_and_the_funnel_are_told_apart(client, period_figures):
    html = _dashboard(client, period_figures, "en")
    assert "<dt>Opened in the period</dt><dd>3</dd>" in html
    assert "<dt>Surrendered in the period</dt><dd>1</dd>" in html
    assert "whenever the case was opened. The funnel below follows only the cases opened in the period" in html
    funnel = html[html.index('<ol class="funnel">'):html.index("</ol>", html.index('<ol class="funnel">'))]
    assert re.search(r'<span class="label">Surrendered</span> <strong>0</strong>', funnel)
    assert "Funnel of the 3 cases opened in the period" in html


def test_rewards_of_the_period_and_of_all_time_are_separate(client, period_figures):
    html = _dashboard(client, period_figures, "en")
    period = html[html.index("<h3>In this period</h3>"):html.index("<h3>All time: still to pay</h3>")]
    all_time = html[html.index("<h3>All time: still to pay</h3>"):]
    assert "<td>Tank</td><td>1</td><td>50,000 USD</td>" in period
    assert "No reward paid in the period." in period
    assert "<td>USD</td><td>50,000</td><td>1</td>" in all_time
    with time_machine.travel(NOW + timedelta(days=30), tick=False):  # a later period: nothing came, still due
        later = client.get(reverse("dashboard") + "?period=7d").content.decode()
    assert "No equipment in the period." in later and "<td>USD</td><td>50,000</td><td>1</td>" in later


def test_equipment_names_are_shown_in_the_operators_language(client, operator):
    assert set(EquipmentType.objects.values_list("name_uk", flat=True)) == {"Танк", "Самохідна гармата", "Бронетехніка"}
    case = make_case(Stage.PLANNING, owner=operator)
    tank = EquipmentType.objects.get(name="Tank")
    services.case_declare_equipment(actor=operator, case_id=case.pk, equipment={tank.pk: 1})
    login(client, operator, language="uk")
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    assert "1 × Танк" in page and "Самохідна гармата" in page and "Self-propelled gun" not in page
    assert "Tank" not in re.sub(r"<[^>]+>", " ", page)
    login(client, operator, language="en")
    assert "1 × Tank" in client.get(reverse("case", args=[case.pk])).content.decode()
    with translation.override("uk"):
        assert tank.display_name == "Танк"
    EquipmentType.objects.filter(pk=tank.pk).update(name_uk="")
    tank.refresh_from_db()
    with translation.override("uk"):
        assert tank.display_name == "Tank"  # no Ukrainian name given: the one there is
