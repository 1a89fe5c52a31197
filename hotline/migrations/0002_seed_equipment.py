"""Seed the publicly reported rewards; admins edit them afterwards."""

from decimal import Decimal

from django.db import migrations

EQUIPMENT = [
    ("Tank", Decimal("50000"), 1),
    ("Self-propelled gun", Decimal("15000"), 2),
    ("Armoured vehicle", Decimal("5000"), 3),
]


def seed(apps, schema_editor):
    EquipmentType = apps.get_model("hotline", "EquipmentType")
    for name, amount, position in EQUIPMENT:
        EquipmentType.objects.get_or_create(
            name=name, defaults={"reward_amount": amount, "currency": "USD", "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("hotline", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
