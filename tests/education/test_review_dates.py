"""Review dates that are kept (education/review_dates.py): a guide page past its "next
review due" date is marked in the admin, counted on the admin home, emailed to the
clinical reviewers each day, and says so plainly on the public page, cache or not."""

import datetime
import io
import smtplib

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from education import review_dates
from education.admin_review_dates import review_date_marker
from education.models import Procedure
from education.review_dates import Due

from .factories import make_procedure

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/education/procedure/"
INDEX_TEMPLATE = "admin/index_review_dates.html"


def days(n):
    return review_dates.today() + datetime.timedelta(days=n)


def page(title, due, status=Procedure.Status.PUBLISHED):
    """A guide page whose next review is `due` (a date, or None)."""
    last = (due or review_dates.today()) - datetime.timedelta(days=365)
    slug = title.lower().replace(" ", "-")
    return make_procedure(
        slug=slug, title=title, status=status, last_reviewed=last, next_review_due=due
    )


def long_date(day):
    return review_dates.format_date(day)


def unbroken(text):
    """As the admin list shows it: on one line."""
    return text.replace(" ", "\N{NO-BREAK SPACE}")


@pytest.fixture
def mixed():
    """One published page in each state, and a late draft."""
    return {
        "overdue": page("Late pump page", days(-1)),
        "due_soon": page("Soon pump page", days(0)),
        "due_soon_last_day": page("Thirty days page", days(30)),
        "current": page("Current pump page", days(31)),
        "no_date": page("Undated pump page", None),
        "late_draft": page("Late draft page", days(-40), status=Procedure.Status.DRAFT),
    }


# The rule.


def test_each_published_page_is_in_one_state_and_drafts_in_none(mixed):
    found = {due: set(review_dates.pages(due).values_list("title", flat=True)) for due in Due}
    assert found == {
        Due.OVERDUE: {"Late pump page"},
        Due.DUE_SOON: {"Soon pump page", "Thirty days page"},
        Due.CURRENT: {"Current pump page"},
        Due.NO_DATE: {"Undated pump page"},
    }
    for name, procedure in mixed.items():
        if name != "late_draft":
            assert review_dates.due_state(procedure) in found
            assert procedure.title in found[review_dates.due_state(procedure)]


def test_today_is_the_clinic_s_day_not_the_server_s(settings, monkeypatch):
    settings.TIME_ZONE = "America/New_York"
    # 02:00 UTC on 2 March is still the evening of 1 March at the clinic.
    utc = datetime.datetime(2026, 3, 2, 2, 0, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: utc)
    procedure = page("Due first of March", datetime.date(2026, 3, 1))
    assert review_dates.today() == datetime.date(2026, 3, 1)
    assert review_dates.due_state(procedure) == Due.DUE_SOON
    assert not review_dates.pages(Due.OVERDUE).exists()


# The admin: the list's filter and marker.


@pytest.mark.parametrize(
    ("choice", "titles"),
    [
        ("overdue", ["Late pump page"]),
        ("due_soon", ["Soon pump page", "Thirty days page"]),
        ("current", ["Current pump page"]),
        ("no_date", ["Undated pump page"]),
    ],
)
def test_the_review_date_filter_lists_the_published_pages_of_each_choice(
    editor_client, mixed, choice, titles
):
    response = editor_client.get(CHANGELIST, {"review_date": choice})
    assert response.status_code == 200
    listed = sorted(p.title for p in response.context["cl"].result_list)
    assert listed == sorted(titles)


def test_the_filter_counts_each_choice_when_asked(editor_client, mixed):
    html = editor_client.get(CHANGELIST, {"_facets": "True"}).content.decode()
    assert "Overdue (1)" in html
    assert "Due in 30 days (2)" in html
    assert "No date (1)" in html


def test_without_the_filter_the_list_has_every_page_drafts_too(editor_client, mixed):
    response = editor_client.get(CHANGELIST)
    assert response.context["cl"].result_count == len(mixed)
    assert "review date" in response.content.decode()


def test_the_list_marks_a_late_page_in_words_not_only_colour(editor_client, mixed):
    html = editor_client.get(CHANGELIST).content.decode()
    late = mixed["overdue"].next_review_due
    assert f"<strong>Overdue</strong><br>{unbroken(long_date(late))}" in html
    assert "admin/img/icon-alert.svg" in html
    assert f"<strong>{unbroken('No date')}</strong></span>" in html
    assert f"<strong>{unbroken('Due soon')}</strong><br>{unbroken(long_date(days(0)))}" in html


def test_the_marker_leaves_current_pages_and_drafts_plain(mixed):
    current, draft = mixed["current"], mixed["late_draft"]
    assert review_date_marker(current) == long_date(current.next_review_due)
    assert review_date_marker(draft) == long_date(draft.next_review_due)
    assert "Overdue" in review_date_marker(mixed["overdue"])


# The admin home.


def test_the_admin_home_tells_an_editor_how_many_pages_are_late(editor_client, mixed):
    page("Another late page", days(-100))
    response = editor_client.get("/admin/")
    html = response.content.decode()
    assert "2 guide pages are past their review date." in html
    assert f'href="{CHANGELIST}?review_date=overdue"' in html
    assert "1 guide page on the site has no next review date." in html
    following = editor_client.get(f"{CHANGELIST}?review_date=overdue")
    assert following.context["cl"].result_count == 2


def test_the_admin_home_says_nothing_when_every_page_is_in_date(editor_client):
    page("Current pump page", days(200))
    page("Late draft page", days(-5), status=Procedure.Status.DRAFT)
    html = editor_client.get("/admin/").content.decode()
    assert "review date" not in html
    assert "review-date-box" not in html


def test_the_admin_home_box_is_for_who_can_act_not_the_front_desk(
    client, front_desk, superuser, mixed
):
    # The front desk reads content but cannot change it: the box would be noise there.
    client.force_login(front_desk)
    html = client.get("/admin/").content.decode()
    assert client.get("/admin/").status_code == 200
    assert "past its review date" not in html
    client.force_login(superuser)
    assert "1 guide page is past its review date." in client.get("/admin/").content.decode()


def test_a_clinical_reviewer_sees_the_admin_home_box(reviewer_client, mixed):
    if not Permission.objects.filter(codename="approve_procedure").exists():
        pytest.skip("no approve_procedure permission in this tree yet")
    html = reviewer_client.get("/admin/").content.decode()
    assert "1 guide page is past its review date." in html


# The daily command and its email.


def run_command(*args):
    out = io.StringIO()
    call_command("send_review_reminders", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def people(reviewer, editor, front_desk, superuser, django_user_model):
    """Everyone, with an email address; only the reviewer and the superuser get it."""
    for user in (editor, front_desk):
        user.email = f"{user.username}@clinic.example"
        user.save()
    gone = django_user_model.objects.create_user(
        "gone", email="gone@clinic.example", is_staff=True, is_active=False
    )
    gone.groups.add(*reviewer.groups.all())
    django_user_model.objects.create_user("noemail", is_staff=True).groups.add(
        *reviewer.groups.all()
    )
    return {"reviewer": reviewer, "superuser": superuser}


def test_the_daily_command_emails_each_reviewer_the_late_pages(settings, people, mixed):
    settings.SITE_URL = "https://clinic.example"
    output = run_command()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "admin@clinic.example",
        "reviewer@clinic.example",
    ]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mail.outbox)
    message = next(m for m in mail.outbox if m.to == ["reviewer@clinic.example"])
    body = message.body
    late = mixed["overdue"]
    assert "1 past their date" in message.subject
    assert f"- Late pump page: was due {long_date(late.next_review_due)}" in body
    assert f"https://clinic.example/admin/education/procedure/{late.pk}/change/" in body
    assert "https://clinic.example/admin/education/procedure/?review_date=overdue" in body
    # Late first, then due within 30 days, then undated; current pages and drafts never.
    assert body.index("Late pump page") < body.index("Soon pump page") < body.index("Undated")
    assert "Thirty days page" in body
    assert "Current pump page" not in body and "Late draft page" not in body
    assert "@" not in body  # no addresses: nobody learns who else gets it
    # Counts only.
    assert "Sent 2 review reminder email(s)." in output
    assert "1 overdue" in output
    assert "Late pump page" not in output and "@" not in output


def test_no_email_when_nothing_is_late_or_due_soon(people):
    page("Current pump page", days(31))
    page("Late draft page", days(-5), status=Procedure.Status.DRAFT)
    output = run_command()
    assert mail.outbox == []
    assert "Nothing to review: no email." in output


def test_a_failed_email_fails_the_command_and_logs_no_address(people, mixed, monkeypatch, caplog):
    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({self.to[0]: (550, b"No such user")})

    monkeypatch.setattr(mail.EmailMessage, "send", refuse)
    with pytest.raises(CommandError, match=r"2 of 2 review reminder emails not sent"):
        run_command()
    assert "SMTPRecipientsRefused" in caplog.text
    assert "@" not in caplog.text


def test_one_failed_email_does_not_stop_the_others(people, mixed, monkeypatch):
    send = mail.EmailMessage.send

    def refuse_the_superuser(self, fail_silently=False):
        if self.to == ["admin@clinic.example"]:
            raise smtplib.SMTPServerDisconnected("gone")
        return send(self, fail_silently)

    monkeypatch.setattr(mail.EmailMessage, "send", refuse_the_superuser)
    with pytest.raises(CommandError, match=r"1 of 2 review reminder emails not sent"):
        run_command()
    assert [m.to for m in mail.outbox] == [["reviewer@clinic.example"]]


def test_nobody_to_tell_fails_the_command(mixed):
    with pytest.raises(CommandError, match="no active clinical reviewer or superuser"):
        run_command()


def test_a_worker_that_does_not_run_the_task_fails_the_command(settings, people, mixed):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with pytest.raises(CommandError, match="Is `manage.py db_worker` running"):
        run_command("--wait", "1")
    assert mail.outbox == []


def test_with_no_wait_the_command_only_queues(settings, people, mixed):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert "Queued the review reminder." in run_command("--wait", "0")
    assert mail.outbox == []


# The public page.


def test_a_late_page_says_so_plainly_and_a_current_one_shows_its_dates(client):
    late = page("Late pump page", days(-3))
    current = page("Current pump page", days(90))
    html = client.get(late.get_absolute_url()).content.decode()
    when = late.next_review_due
    assert "This page was due to be checked again on" in html
    assert f'<time datetime="{when:%Y-%m-%d}">{long_date(when)}</time>' in html
    assert "We are checking it now." in html
    assert "If anything here worries you, call us" in html
    assert "Next review due" not in html
    html = client.get(current.get_absolute_url()).content.decode()
    assert "Next review due:" in html
    assert f'<time datetime="{current.next_review_due:%Y-%m-%d}">' in html
    assert "due to be checked again" not in html


def test_the_late_page_note_reads_at_grade_six_or_below(client):
    from education import readability

    late = page("Late pump page", days(-3))
    html = client.get(late.get_absolute_url()).content.decode()
    note = html.split('class="review-line review-late">')[1].split("</p>")[0]
    text = " ".join(part.split(">")[-1] for part in note.split("<")).split()
    assert readability.grade(" ".join(text)) <= readability.SAFETY_TARGET_GRADE


def test_a_cached_page_turns_late_after_the_daily_command(client, monkeypatch, people):
    procedure = page("Pump page", days(-1))  # due yesterday: late since midnight
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() - datetime.timedelta(days=1))
    url = procedure.get_absolute_url()
    assert "Next review due:" in client.get(url).content.decode()  # rendered yesterday
    monkeypatch.setattr(timezone, "now", real_now)
    assert "Next review due:" in client.get(url).content.decode()  # still the cached copy
    output = run_command()
    assert "1 page(s) turned late today: emptied the page cache." in output
    html = client.get(url).content.decode()
    assert "This page was due to be checked again on" in html
    assert "Next review due:" not in html


def test_the_command_leaves_the_cache_alone_when_no_page_turned_late_today(client, people):
    procedure = page("Pump page", days(-2))  # late since yesterday: already shown
    client.get(procedure.get_absolute_url())
    output = run_command()
    assert "emptied the page cache" not in output


def test_wired_procedure_admin_has_the_review_date_filter_and_marker(editor_client):
    page("Late pump page", days(-1))
    response = editor_client.get(CHANGELIST, {"review_date": "overdue"})
    assert response.status_code == 200  # an unknown filter redirects to ?e=1
    assert "<strong>Overdue</strong>" in response.content.decode()


def test_wired_the_admin_home_has_the_review_box(editor_client):
    page("Late pump page", days(-1))
    assert "past its review date" in editor_client.get("/admin/").content.decode()


def test_wired_the_public_templates_have_review_due(client):
    late = page("Late pump page", days(-1))
    assert "due to be checked again" in client.get(late.get_absolute_url()).content.decode()
