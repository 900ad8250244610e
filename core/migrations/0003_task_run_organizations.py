"""Existing task runs belong to the organization of the user who started them (accounts/0004 put
every user in one); runs without a user stay installation-wide (organization None)."""

from django.db import migrations


def runs_to_their_starters_organization(apps, schema_editor):
    TaskRun = apps.get_model("core", "TaskRun")
    User = apps.get_model("accounts", "User")
    organization_of = {}
    for run in TaskRun.objects.filter(organization__isnull=True, triggered_by__isnull=False).only("pk", "triggered_by"):
        user_id = run.triggered_by_id
        if user_id not in organization_of:
            user = User.objects.filter(pk=user_id).only("organization").first()
            organization_of[user_id] = user.organization_id if user is not None else None
        if organization_of[user_id] is not None:
            TaskRun.objects.filter(pk=run.pk).update(organization_id=organization_of[user_id])


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_organizations"),
        ("accounts", "0004_organizations"),
    ]

    operations = [
        migrations.RunPython(runs_to_their_starters_organization, migrations.RunPython.noop),
    ]
