"""Create the two roles as groups holding named permissions, and the common languages."""

from django.db import migrations

ROLES = {"Operators": ["work_cases"], "Supervisors": ["work_cases", "supervise_cases"]}
LANGUAGES = [("ru", "Русский"), ("uk", "Українська"), ("en", "English"), ("be", "Беларуская")]
PERMISSIONS = {
    "work_cases": "Can work cases: take, answer, move through stages",
    "supervise_cases": "Can see every case, reassign, mark rewards paid",
}


def seed(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    Language = apps.get_model("operators", "Language")
    # Permissions are normally created after migrations; create them now so groups can hold them.
    content_type, _ = ContentType.objects.get_or_create(app_label="operators", model="operatorprofile")
    perms = {
        codename: Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in PERMISSIONS.items()
    }
    for group_name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*(perms[c] for c in codenames))
    for code, name in LANGUAGES:
        Language.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [
        ("operators", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
