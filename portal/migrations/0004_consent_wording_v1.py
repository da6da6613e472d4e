"""The first version of what people are told when they agree, one per purpose."""

from django.db import migrations
from django.utils import timezone

from portal.consent_text import WORDING_V1



def forward(apps, schema_editor):
    ConsentWording = apps.get_model("portal", "ConsentWording")
    for purpose, text in WORDING_V1.items():
        ConsentWording.objects.get_or_create(
            purpose=purpose,
            version=1,
            defaults={"text": text, "effective_from": timezone.now()},
        )


def backward(apps, schema_editor):
    apps.get_model("portal", "ConsentWording").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_auditevent_append_only_triggers")]

    operations = [migrations.RunPython(forward, backward)]
