"""The clinic's own closure days in the admin (public holidays come from the `holidays` library).

The list shows the days staff added, and under it the public holidays that already close
the clinic this year and next, so staff only add their own closures (a staff day, a snow
day) and the holidays the clinic works ("open that day" ticked). business_days.py reads both.
"""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from . import business_days
from .models import ClosureDay


class ClosureDayForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        day = cleaned.get("day")
        if cleaned.get("open") and day and day.weekday() not in settings.CLINIC_DAYS:
            self.add_error(
                "open",
                _(
                    "The clinic is never open on this day of the week. “Open that day” "
                    "only keeps it open on a public holiday that falls on a clinic day."
                ),
            )
        return cleaned


@admin.register(ClosureDay)
class ClosureDayAdmin(admin.ModelAdmin):
    form = ClosureDayForm
    list_display = ["day_and_weekday", "name", "open", "public_holiday"]
    list_display_links = ["day_and_weekday"]
    list_filter = ["open"]
    search_fields = ["name"]
    date_hierarchy = "day"
    fields = ["day", "name", "open"]

    @admin.display(description=_("day"), ordering="day")
    def day_and_weekday(self, obj):
        return date_format(obj.day, "D j M Y")

    @admin.display(description=_("public holiday"))
    def public_holiday(self, obj):
        """The holiday's name when the day is one (the "open" tick matters only then)."""
        found = business_days.public_holidays(
            settings.CLINIC_HOLIDAYS_COUNTRY, settings.CLINIC_HOLIDAYS_SUBDIVISION, obj.day.year
        )
        return found.get(obj.day, "")

    def changelist_view(self, request, extra_context=None):
        this_year = timezone.localdate().year
        years = [this_year, this_year + 1]
        staff_days = dict(ClosureDay.objects.filter(day__year__in=years).values_list("day", "open"))
        can_add = self.has_add_permission(request)
        holidays = []
        for year in years:
            for day, name in business_days.public_holidays_on_clinic_days(year):
                open_ = staff_days.get(day, False)
                add_url = ""
                if can_add and day not in staff_days:
                    query = urlencode({"day": day.isoformat(), "name": name, "open": "1"})
                    add_url = f"{reverse('admin:appointments_closureday_add')}?{query}"
                holidays.append({"day": day, "name": name, "open": open_, "add_url": add_url})
        region = settings.CLINIC_HOLIDAYS_COUNTRY
        if settings.CLINIC_HOLIDAYS_SUBDIVISION:
            region = f"{region}, {settings.CLINIC_HOLIDAYS_SUBDIVISION}"
        extra_context = {
            **(extra_context or {}),
            "public_holidays": holidays,
            "holiday_region": region,
        }
        return super().changelist_view(request, extra_context=extra_context)
