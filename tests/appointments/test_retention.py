"""`manage.py purge_requests`: closed requests go after the retention period, with their
call log and history; open and recently closed ones stay; a second run deletes nothing."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from appointments.models import ContactAttempt, Request, RequestEvent

from .factories import make_request

pytestmark = pytest.mark.django_db

S = Request.Status


def request_aged(days, *, closed=True, calls=1, events=2):
    """A request whose submission, last change, calls and history are all `days` old."""
    when = timezone.now() - datetime.timedelta(days=days)
    request = make_request(
        status=S.CLOSED if closed else S.CONTACTED,
        closing_reason="booked" if closed else "",
        submitted_at=when,
    )
    for _ in range(calls):
        ContactAttempt.objects.create(
            request=request, outcome="reached", called_at=when, notes="Booked a visit."
        )
    for _ in range(events):
        RequestEvent.objects.create(request=request, action=RequestEvent.Action.CALL, at=when)
    # auto_now sets updated_at on save; an update() leaves it as given.
    Request.objects.filter(pk=request.pk).update(updated_at=when)
    return request


def purge(*args):
    out = io.StringIO()
    call_command("purge_requests", *args, stdout=out)
    return out.getvalue()


def rows_of(request):
    return (
        Request.objects.filter(pk=request.pk).count(),
        ContactAttempt.objects.filter(request_id=request.pk).count(),
        RequestEvent.objects.filter(request_id=request.pk).count(),
    )


def test_old_closed_requests_go_with_their_calls_and_history():
    old_closed = request_aged(120, calls=2, events=3)
    other_old_closed = request_aged(91, calls=0, events=1)
    recent_closed = request_aged(10)
    old_open = request_aged(400, closed=False)

    output = purge()

    assert rows_of(old_closed) == (0, 0, 0)
    assert rows_of(other_old_closed) == (0, 0, 0)
    assert rows_of(recent_closed) == (1, 1, 2)
    assert rows_of(old_open) == (1, 1, 2)
    assert output.strip() == (
        "Deleted 2 closed request(s) with no activity for 90 days, "
        "with 2 call(s) and 4 history entries."
    )


def test_a_second_run_deletes_nothing():
    request_aged(200)
    keep = request_aged(5)
    purge()

    output = purge()

    assert "Deleted 0 closed request(s)" in output
    assert "0 call(s) and 0 history entries" in output
    assert rows_of(keep) == (1, 1, 2)


def test_the_report_has_counts_and_no_patient_details():
    old = request_aged(100)
    details = [old.name, old.email, str(old.phone), old.reason, old.reference, "Booked a visit"]

    output = purge()

    for detail in details:
        assert detail not in output
    assert "1 closed request(s)" in output


def test_a_closed_request_with_a_recent_call_or_change_is_kept():
    called_lately = request_aged(200)
    ContactAttempt.objects.create(request=called_lately, outcome="no_answer")
    changed_lately = request_aged(200)
    Request.objects.filter(pk=changed_lately.pk).update(updated_at=timezone.now())
    history_lately = request_aged(200)
    RequestEvent.objects.create(request=history_lately, action=RequestEvent.Action.NOTES)

    purge()

    kept = [called_lately.pk, changed_lately.pk, history_lately.pk]
    assert Request.objects.filter(pk__in=kept).count() == 3


def test_the_default_retention_is_90_days():
    just_inside = request_aged(89)
    just_outside = request_aged(91)

    purge()

    assert Request.objects.filter(pk=just_inside.pk).exists()
    assert not Request.objects.filter(pk=just_outside.pk).exists()


def test_the_retention_setting_changes_the_period(settings):
    settings.REQUEST_RETENTION_DAYS = 30
    forty_days = request_aged(40)
    twenty_days = request_aged(20)

    output = purge()

    assert "no activity for 30 days" in output
    assert not Request.objects.filter(pk=forty_days.pk).exists()
    assert Request.objects.filter(pk=twenty_days.pk).exists()


def test_a_dry_run_counts_and_deletes_nothing():
    old = request_aged(100, calls=2, events=1)

    output = purge("--dry-run")

    assert output.strip() == (
        "Would delete 1 closed request(s) with no activity for 90 days, "
        "with 2 call(s) and 1 history entry."
    )
    assert rows_of(old) == (1, 2, 1)


def test_a_retention_under_one_day_is_refused():
    request_aged(100)
    with pytest.raises(CommandError, match="from 1 to 36500 days"):
        purge("--days", "0")
    assert Request.objects.count() == 1


def test_a_later_request_marked_as_duplicate_of_a_purged_one_stays():
    old = request_aged(100)
    later = make_request(possible_duplicate_of=old)

    purge()

    later.refresh_from_db()
    assert later.possible_duplicate_of is None
