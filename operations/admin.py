"""The job locks in the admin: for superusers to see which host ran a job and when.

View only: the lock is taken and let go by the commands (operations/jobs.py). A lock
left by a host that died frees itself when its lease runs out.
"""

from django.contrib import admin

from operations.models import JobLock


@admin.register(JobLock)
class JobLockAdmin(admin.ModelAdmin):
    list_display = ["name", "held_until", "holder", "last_started_at", "last_finished_at"]
    readonly_fields = list_display
    search_fields = ["name", "holder"]

    # Superusers only (they pass every permission check), and nobody edits by hand.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
