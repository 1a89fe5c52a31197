from django.contrib import admin

from .models import Language, OperatorProfile


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(OperatorProfile)
class OperatorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "capacity", "on_shift", "last_assigned_at"]
    list_filter = ["on_shift", "languages"]
    filter_horizontal = ["languages"]
