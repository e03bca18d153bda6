"""Every admin URL, for every persona: who gets in, who is refused, who is sent to log in.

MATRIX below is the expected outcome for each page the admin serves, read from
`admin.site.get_urls()` and each registered ModelAdmin's own URLs (so a new model or
custom view fails `test_the_matrix_lists_every_admin_url_and_nothing_else` until it has a row here).
Pages with an id in the URL are opened for a real object. Each page is opened with GET,
except "logout", which is a POST.

Outcomes:
    login           302 to the admin login page
    200             the page opens (for staff with view permission only, read-only)
    403             refused
    404             the admin hides it (an app the user has no model of, an unknown page)
    to index        302 to the admin's front page (the login page when already signed
                    in; signing out when not signed in)
    to change       302 from /admin/<app>/<model>/<id>/ to that object's change page,
                    which then answers for itself (see the "_change" row)
    to site         302 to the page on the public site ("View on site")
    to list         302 to the page's list of approved versions (comparing needs two)
    405             the page takes a POST only (a workflow step: make a draft, send
                    for review, restore a version, copy)

The rules behind it (DESIGN.md "Roles"): content editors do everything with education
content (a page on the site only through its draft, and never delete it) and see
nothing of requests or users; clinical reviewers read content and approve, confirm
or take pages off the site; the front desk reads education content
and works requests; the superuser does everything the admin allows at all (nobody adds
a request, a second clinic settings row, a login-attempt record, a task result or a job
lock, nobody sees an authenticator app's secret again). Staff never see users, devices
or job locks.
"""

import datetime
import re

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import URLResolver, reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from appointments.models import ClosureDay, DiscardedSend
from education.models import ClinicSettings, Procedure
from operations.models import JobLock
from tests.appointments.factories import make_request
from tests.conftest import staff_group
from tests.education.factories import fill_procedure, make_procedure

pytestmark = pytest.mark.django_db


PERSONAS = ["anonymous", "editor", "reviewer", "frontdesk", "superuser"]

MATRIX = """
admin URL name                                 anonymous  editor     reviewer   frontdesk  superuser
index                                          login      200        200        200        200
login                                          200        to index   to index   to index   to index
logout                                         to index   200        200        200        200
password_change                                login      200        200        200        200
password_change_done                           login      200        200        200        200
autocomplete                                   login      200        200        200        200
jsi18n                                         login      200        200        200        200
view_on_site                                   login      to site    to site    to site    to site
catch_all                                      login      404        404        404        404
app_list:education                             login      200        200        200        200
app_list:appointments                          login      404        404        200        200
app_list:auth                                  login      404        404        404        200
app_list:otp_totp                              login      404        404        404        200
app_list:axes                                  login      404        404        404        200
app_list:django_tasks_database                 login      404        404        404        200
app_list:operations                            login      404        404        404        200

education_procedure_changelist                 login      200        200        200        200
education_procedure_add                        login      200        403        403        200
education_procedure_change                     login      200        200        200        200
education_procedure_delete                     login      403        403        403        403
education_procedure_history                    login      200        200        200        200
education_procedure_redirect                   login      to change  to change  to change  to change
education_procedure_preview                    login      200        200        200        200
education_procedure_preview_part               login      200        200        200        200
education_procedure_preview_tool               login      200        200        200        200
education_procedure_changes                    login      200        200        200        200
education_procedure_versions                   login      200        200        200        200
education_procedure_compare                    login      to list    to list    to list    to list
education_procedure_review                     login      403        200        403        200
education_procedure_unpublish                  login      403        200        403        200
education_procedure_start_draft                login      405        405        405        405
education_procedure_submit                     login      405        405        405        405
education_procedure_restore                    login      405        405        405        405
education_procedure_copy                       login      405        405        405        405
education_procedure_translate                  login      405        405        405        405
education_phase_changelist                     login      200        200        200        200
education_phase_add                            login      403        403        403        403
education_phase_change                         login      200        200        200        200
education_phase_delete                         login      403        403        403        403
education_phase_history                        login      200        200        200        200
education_phase_redirect                       login      to change  to change  to change  to change
education_glossaryterm_changelist              login      200        200        200        200
education_glossaryterm_add                     login      200        403        403        200
education_glossaryterm_change                  login      200        200        200        200
education_glossaryterm_delete                  login      200        403        403        200
education_glossaryterm_history                 login      200        200        200        200
education_glossaryterm_redirect                login      to change  to change  to change  to change
education_clinicsettings_changelist            login      200        200        200        200
education_clinicsettings_add                   login      403        403        403        403
education_clinicsettings_change                login      200        200        200        200
education_clinicsettings_delete                login      403        403        403        403
education_clinicsettings_history               login      200        200        200        200
education_clinicsettings_redirect              login      to change  to change  to change  to change

appointments_request_changelist                login      403        403        200        200
appointments_request_export                    login      403        403        200        200
appointments_request_call_sheet                login      403        403        200        200
appointments_request_add                       login      403        403        403        403
appointments_request_change                    login      403        403        200        200
appointments_request_delete                    login      403        403        403        200
appointments_request_history                   login      403        403        200        200
appointments_request_redirect                  login      to change  to change  to change  to change
appointments_closureday_changelist             login      403        403        200        200
appointments_closureday_add                    login      403        403        200        200
appointments_closureday_change                 login      403        403        200        200
appointments_closureday_delete                 login      403        403        200        200
appointments_closureday_history                login      403        403        200        200
appointments_closureday_redirect               login      to change  to change  to change  to change
appointments_discardedsend_changelist          login      403        403        200        200
appointments_discardedsend_add                 login      403        403        403        403
appointments_discardedsend_change              login      403        403        200        200
appointments_discardedsend_delete              login      403        403        403        403
appointments_discardedsend_history             login      403        403        200        200
appointments_discardedsend_redirect            login      to change  to change  to change  to change

auth_user_changelist                           login      403        403        403        200
auth_user_add                                  login      403        403        403        200
auth_user_change                               login      403        403        403        200
auth_user_password_change                      login      403        403        403        200
auth_user_set_up_link                          login      403        403        403        200
auth_user_delete                               login      403        403        403        200
auth_user_history                              login      403        403        403        200
auth_user_redirect                             login      to change  to change  to change  to change
auth_group_changelist                          login      403        403        403        200
auth_group_add                                 login      403        403        403        200
auth_group_change                              login      403        403        403        200
auth_group_delete                              login      403        403        403        200
auth_group_history                             login      403        403        403        200
auth_group_redirect                            login      to change  to change  to change  to change

otp_totp_totpdevice_changelist                 login      403        403        403        200
otp_totp_totpdevice_add                        login      403        403        403        200
otp_totp_totpdevice_change                     login      403        403        403        200
otp_totp_totpdevice_delete                     login      403        403        403        200
otp_totp_totpdevice_history                    login      403        403        403        200
otp_totp_totpdevice_config                     login      403        403        403        403
otp_totp_totpdevice_qrcode                     login      403        403        403        403
otp_totp_totpdevice_redirect                   login      to change  to change  to change  to change

axes_accessattempt_changelist                  login      403        403        403        200
axes_accessattempt_add                         login      403        403        403        403
axes_accessattempt_change                      login      403        403        403        200
axes_accessattempt_delete                      login      403        403        403        200
axes_accessattempt_history                     login      403        403        403        200
axes_accessattempt_redirect                    login      to change  to change  to change  to change
axes_accesslog_changelist                      login      403        403        403        200
axes_accesslog_add                             login      403        403        403        403
axes_accesslog_change                          login      403        403        403        200
axes_accesslog_delete                          login      403        403        403        200
axes_accesslog_history                         login      403        403        403        200
axes_accesslog_redirect                        login      to change  to change  to change  to change
axes_accessfailurelog_changelist               login      403        403        403        200
axes_accessfailurelog_add                      login      403        403        403        403
axes_accessfailurelog_change                   login      403        403        403        200
axes_accessfailurelog_delete                   login      403        403        403        200
axes_accessfailurelog_history                  login      403        403        403        200
axes_accessfailurelog_redirect                 login      to change  to change  to change  to change

django_tasks_database_dbtaskresult_changelist  login      403        403        403        200
django_tasks_database_dbtaskresult_add         login      403        403        403        403
django_tasks_database_dbtaskresult_change      login      403        403        403        200
django_tasks_database_dbtaskresult_delete      login      403        403        403        403
django_tasks_database_dbtaskresult_history     login      403        403        403        200
django_tasks_database_dbtaskresult_redirect    login      to change  to change  to change  to change

operations_joblock_changelist                  login      403        403        403        200
operations_joblock_add                         login      403        403        403        403
operations_joblock_change                      login      403        403        403        200
operations_joblock_delete                      login      403        403        403        403
operations_joblock_history                     login      403        403        403        200
operations_joblock_redirect                    login      to change  to change  to change  to change
"""


def parse(table):
    rows = [re.split(r"\s{2,}", line.strip()) for line in table.strip().splitlines() if line]
    header, *body = rows
    assert header == ["admin URL name", *PERSONAS]
    expected = {}
    for row in body:
        assert len(row) == 1 + len(PERSONAS), row
        assert row[0] not in expected, f"{row[0]} is listed twice"
        expected[row[0]] = dict(zip(PERSONAS, row[1:], strict=True))
    return expected


EXPECTED = parse(MATRIX)


# The objects the pages with an id in their URL are opened for.


def make_objects(django_user_model):
    """One real object of every model the admin shows, keyed by model label."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_tasks_db.models import DBTaskResult

    procedure = fill_procedure(make_procedure(), 1)
    someone = django_user_model.objects.create_user(username="someone", is_staff=True)
    visit = {"user_agent": "test", "ip_address": "127.0.0.1", "username": "someone"}
    visit |= {"http_accept": "text/html", "path_info": "/admin/login/"}
    return {
        "education.procedure": procedure,
        "education.phase": procedure.phases.get(),
        "education.glossaryterm": procedure.glossary_terms.get(),
        "education.clinicsettings": ClinicSettings.objects.create(pk=1, name="Test clinic"),
        "appointments.request": make_request(),
        "appointments.closureday": ClosureDay.objects.create(
            day=datetime.date(2030, 1, 2), name="Staff day"
        ),
        "appointments.discardedsend": DiscardedSend.objects.create(
            day=datetime.date(2030, 1, 2), form="call_back", reason="honeypot", count=1
        ),
        "auth.user": someone,
        "auth.group": staff_group("Front desk"),
        "otp_totp.totpdevice": TOTPDevice.objects.create(user=someone, name="Phone"),
        "axes.accessattempt": AccessAttempt.objects.create(
            get_data="", post_data="", failures_since_start=1, **visit
        ),
        "axes.accesslog": AccessLog.objects.create(**visit),
        "axes.accessfailurelog": AccessFailureLog.objects.create(**visit),
        "django_tasks_database.dbtaskresult": DBTaskResult.objects.create(
            args_kwargs={"args": [], "kwargs": {}},
            task_path="appointments.tasks.notify_front_desk",
            backend_name="default",
            run_after=timezone.now(),
            exception_class_path="",
            traceback="",
        ),
        "operations.joblock": JobLock.objects.create(name="backup"),
    }


class Page:
    """One admin URL: its row in MATRIX, where it is, and where "to change page" goes."""

    def __init__(self, key, url, method="get", change_url=None):
        self.key, self.url, self.method, self.change_url = key, url, method, change_url

    def __repr__(self):
        return f"{self.key} ({self.url})"


def admin_pages(objects):
    """Every URL pattern the admin serves, each made into a URL to open."""
    registry = {
        f"{model._meta.app_label}/{model._meta.model_name}/": model
        for model in admin.site._registry
    }
    pages = []
    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLResolver):
            model = registry[str(pattern.pattern)]
            pages += model_pages(model, objects.get(model._meta.label_lower), pattern)
        elif pattern.name == "app_list":
            labels = sorted({model._meta.app_label for model in admin.site._registry})
            pages += [
                Page(f"app_list:{label}", reverse("admin:app_list", args=[label]))
                for label in labels
            ]
        elif pattern.name is None:
            pages.append(Page("catch_all", reverse("admin:index") + "no-such-page/"))
        else:
            pages.append(site_page(pattern.name, objects))
    return pages


def site_page(name, objects):
    procedure = objects["education.procedure"]
    if name == "logout":
        return Page(name, reverse("admin:logout"), method="post")
    if name == "autocomplete":
        query = "?app_label=education&model_name=procedure&field_name=related&term=pump"
        return Page(name, reverse("admin:autocomplete") + query)
    if name == "view_on_site":
        content_type = ContentType.objects.get_for_model(Procedure)
        return Page(name, reverse("admin:view_on_site", args=[content_type.pk, procedure.pk]))
    return Page(name, reverse(f"admin:{name}"))


def model_pages(model, obj, resolver):
    assert obj is not None, f"make_objects() needs an object of {model._meta.label}"
    info = f"{model._meta.app_label}_{model._meta.model_name}"
    change_url = reverse(f"admin:{info}_change", args=[obj.pk])
    pages = []
    for pattern in resolver.url_patterns:
        if pattern.name is None:
            # /admin/<app>/<model>/<id>/ redirects to the change page.
            url = reverse(f"admin:{info}_changelist") + f"{obj.pk}/"
            pages.append(Page(f"{info}_redirect", url, change_url=change_url))
            continue
        kwargs = dict.fromkeys(pattern.pattern.converters, obj.pk)
        if "part" in kwargs:  # a part of the procedure's guide, by its address
            kwargs["part"] = obj.parts.first().slug
        if "tool" in kwargs:  # one of the guide's tools (education/tools.py)
            kwargs["tool"] = "questions"
        pages.append(Page(pattern.name, reverse(f"admin:{pattern.name}", kwargs=kwargs)))
    return pages


# Opening them.


def persona_user(persona, django_user_model):
    from tests.conftest import make_staff

    if persona == "editor":
        return make_staff(django_user_model, "editor", "Content editors")
    if persona == "reviewer":
        return make_staff(django_user_model, "reviewer", "Clinical reviewers")
    if persona == "frontdesk":
        return make_staff(django_user_model, "frontdesk", "Front desk")
    if persona == "superuser":
        return django_user_model.objects.create_superuser(
            username="admin", password="test-password-123", email="admin@clinic.example"
        )
    return None


def sign_in(client, user, device=None):
    """A fresh staff session; with `device`, one that already passed the second step."""
    client.force_login(user)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


def outcome(page, response):
    if response.status_code != 302:
        return str(response.status_code)
    location = response["Location"]
    if location.startswith(reverse("admin:login")):
        return "login"
    if location == reverse("admin:index"):
        return "to index"
    if page.change_url and location == page.change_url:
        return "to change"
    if location.endswith(Procedure.objects.get(language="en").get_absolute_url()):
        return "to site"
    if location.startswith(reverse("accounts:two_factor")):
        return "to two-factor"
    if location.endswith("/versions/"):
        return "to list"
    return f"302 to {location}"


def open_page(client, page):
    return getattr(client, page.method)(page.url)


def check_persona(client, django_user_model, persona, two_factor_device=False):
    """Open every admin page as `persona`; return the rows that differ from MATRIX."""
    objects = make_objects(django_user_model)
    user = persona_user(persona, django_user_model)
    device = (
        TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
        if user and two_factor_device
        else None
    )
    wrong = []
    for page in admin_pages(objects):
        client.logout()
        if user is not None:
            sign_in(client, user, device)
        got = outcome(page, open_page(client, page))
        expected = EXPECTED.get(page.key, {}).get(persona, "(no row in MATRIX)")
        if got != expected:
            wrong.append(f"{page!r}: expected {expected}, got {got}")
    return wrong


@pytest.fixture(autouse=True)
def _task_results_in_the_database(settings):
    # The task-result admin reads its tasks through the database backend, as in
    # production (the shared test settings run tasks at once, with no stored results).
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


def test_the_matrix_lists_every_admin_url_and_nothing_else(django_user_model):
    served = {page.key for page in admin_pages(make_objects(django_user_model))}
    assert sorted(served - EXPECTED.keys()) == [], "admin URLs with no row in MATRIX"
    assert sorted(EXPECTED.keys() - served) == [], "rows in MATRIX the admin no longer serves"


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_admin_url_answers_each_persona_as_the_matrix_says(
    client, django_user_model, persona
):
    assert check_persona(client, django_user_model, persona) == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_with_two_factor_required_the_matrix_holds_once_the_code_was_typed(
    client, django_user_model, settings, persona
):
    settings.STAFF_TWO_FACTOR_REQUIRED = True
    assert check_persona(client, django_user_model, persona, two_factor_device=True) == []


def test_staff_groups_hold_no_permission_on_users_groups_or_devices():
    for name in ["Content editors", "Clinical reviewers", "Front desk"]:
        codenames = staff_group(name).permissions.values_list("content_type__app_label", flat=True)
        assert not {"auth", "otp_totp", "axes", "django_tasks_database"} & set(codenames), name
