"""Equipment types get a Ukrainian name (admins edit it), shown in the Ukrainian interface; the
three seeded types get theirs."""

from django.db import migrations, models

NAMES_UK = {
    "Tank": "Танк",
    "Self-propelled gun": "Самохідна гармата",
    "Armoured vehicle": "Бронетехніка",
}


def seed(apps, schema_editor):
    """Name the seeded types in Ukrainian, unless an admin already did (idempotent)."""
    EquipmentType = apps.get_model("hotline", "EquipmentType")
    for name, name_uk in NAMES_UK.items():
        EquipmentType.objects.filter(name=name, name_uk="").update(name_uk=name_uk)


class Migration(migrations.Migration):
    dependencies = [("hotline", "0004_notices_for_one_person")]

    operations = [
        migrations.AddField(
            model_name="equipmenttype",
            name="name_uk",
            field=models.CharField(
                blank=True, help_text="Shown to operators whose interface is in Ukrainian.", max_length=100,
                verbose_name="name in Ukrainian",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
