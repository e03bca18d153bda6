"""The user admin, with two-step sign-in: who has an app, backup codes left, set-up links.

django.contrib.auth's own UserAdmin, registered again with a "Two-step sign-in" section
on each user's page and a "Set-up link" button that only superusers can use. The link is
shown once, on the page that made it; only its hash is stored (accounts.models).

otp_static's admin is taken away: it would show backup codes as typed, and let anyone
with access add codes by hand. The user's page shows how many are left instead.
"""

import logging

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services
from .models import EnrolmentLink, StaffProfile

logger = logging.getLogger(__name__)

User = get_user_model()

if admin.site.is_registered(StaticDevice):
    admin.site.unregister(StaticDevice)
if admin.site.is_registered(User):
    admin.site.unregister(User)


def when(moment):
    return date_format(localtime(moment), "DATETIME_FORMAT")


class StaffProfileInline(admin.StackedInline):
    """A clinical reviewer's credentials, shown after their name on the pages they
    approve."""

    model = StaffProfile
    can_delete = False
    fields = ["credentials"]
    verbose_name_plural = gettext_lazy("Staff profile")


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Django's user admin plus the person's two-step sign-in and staff profile."""

    inlines = [StaffProfileInline]

    change_form_template = "accounts/admin/user_change_form.html"
    list_display = (*UserAdmin.list_display, "has_app", "backup_codes_left")
    two_step_fields = ("app_status", "backup_codes_status", "set_up_link_status")
    readonly_fields = two_step_fields

    def get_queryset(self, request):
        codes = (
            StaticToken.objects.filter(device__user=OuterRef("pk"), device__confirmed=True)
            .order_by()
            .values("device__user")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                app_set_up=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
                codes_left=Coalesce(Subquery(codes, output_field=IntegerField()), 0),
            )
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        section = (
            gettext_lazy("Two-step sign-in"),
            {
                "fields": self.two_step_fields,
                "description": gettext_lazy(
                    "New staff set up their authenticator app with a one-time set-up link: "
                    "use the “Set-up link” button at the top of this page. New phone? "
                    "Delete the old app under “TOTP devices” first, then make a new link."
                ),
            },
        )
        # Second, under the user name: what a superuser looks for when someone cannot
        # sign in.
        return [fieldsets[0], section, *fieldsets[1:]]

    @admin.display(boolean=True, description=gettext_lazy("App set up"), ordering="app_set_up")
    def has_app(self, obj):
        return obj.app_set_up

    @admin.display(description=gettext_lazy("Backup codes"), ordering="codes_left")
    def backup_codes_left(self, obj):
        return obj.codes_left

    @admin.display(description=gettext_lazy("Authenticator app"))
    def app_status(self, obj):
        app = TOTPDevice.objects.devices_for_user(obj, confirmed=True).first()
        if app is None:
            return _("Not set up")
        return _("Set up on %(date)s") % {"date": when(app.created_at)}

    @admin.display(description=gettext_lazy("Backup codes left"))
    def backup_codes_status(self, obj):
        return services.backup_codes_left(obj)

    @admin.display(description=gettext_lazy("Latest set-up link"))
    def set_up_link_status(self, obj):
        link = EnrolmentLink.objects.filter(user=obj).select_related("created_by").first()
        if link is None:
            return _("None made")
        maker = link.created_by.get_username() if link.created_by else _("the server")
        return _("Made by %(maker)s on %(made)s, works until %(until)s: %(status)s") % {
            "maker": maker,
            "made": when(link.created_at),
            "until": when(link.expires_at),
            "status": link.status(),
        }

    def get_urls(self):
        info = (self.opts.app_label, self.opts.model_name)
        return [
            path(
                "<int:user_id>/set-up-link/",
                self.admin_site.admin_view(self.set_up_link_view),
                name="{}_{}_set_up_link".format(*info),
            ),
            *super().get_urls(),
        ]

    @method_decorator(never_cache)
    def set_up_link_view(self, request, user_id):
        """Make a set-up link for one person (POST) and show it once; GET explains first."""
        if not request.user.is_superuser:
            raise PermissionDenied
        person = get_object_or_404(User, pk=user_id)
        problem = None
        if not (person.is_active and person.is_staff):
            problem = _("%(username)s is not active staff. Tick “Active” and “Staff status” first.")
        elif services.has_app(person):
            problem = _(
                "%(username)s already has an authenticator app. For a new phone, delete the "
                "old app under “TOTP devices” first, then come back here."
            )
        link = url = None
        if request.method == "POST" and problem is None:
            link, token = services.make_enrolment_link(person, made_by=request.user)
            url = request.build_absolute_uri(services.enrolment_path(token))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Set-up link for %(username)s") % {"username": person.get_username()},
            "opts": self.opts,
            "original": person,
            "problem": problem % {"username": person.get_username()} if problem else None,
            "url": url,
            "until": when(link.expires_at) if link else None,
            "hours": settings.STAFF_ENROLMENT_LINK_HOURS,
            "open_link": EnrolmentLink.objects.filter(user=person).usable().exists(),
        }
        return TemplateResponse(
            request,
            "accounts/admin/set_up_link.html",
            context,
            status=409 if request.method == "POST" and problem else 200,
        )
