import pytest
from django.core.management import call_command
from django_q.models import Schedule

pytestmark = pytest.mark.django_db


def test_it_upserts_the_schedules_idempotently(capsys):
    call_command("setup_schedules")
    call_command("setup_schedules")
    schedule = Schedule.objects.get(name="Check LinkedIn token expiry")
    assert schedule.func == "messaging.tasks.check_account_expiry"
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1
    assert Schedule.objects.count() == 8
    dispatch = Schedule.objects.get(name="Dispatch the message queue")
    assert (dispatch.func, dispatch.minutes) == ("messaging.tasks.dispatch", 1)
    recover = Schedule.objects.get(name="Recover stopped imports")
    assert (recover.func, recover.minutes) == ("contacts.tasks.recover_imports", 5)
    webhooks = Schedule.objects.get(name="Deliver webhooks")
    assert (webhooks.func, webhooks.minutes) == ("linkedin_crm.tasks.deliver_webhooks", 1)
    cleanup = Schedule.objects.get(name="Clean up old uploads and exports")
    assert (cleanup.func, cleanup.schedule_type) == (
        "contacts.tasks.clean_uploads",
        Schedule.HOURLY,
    )
    prune = Schedule.objects.get(name="Prune old webhook events")
    assert (prune.func, prune.schedule_type) == (
        "linkedin_crm.tasks.prune_webhook_events",
        Schedule.DAILY,
    )
    assert "Updated schedule" in capsys.readouterr().out


def test_the_expiry_task_runs(staff_user):
    from messaging.tasks import check_account_expiry

    assert check_account_expiry() == {"refreshed": 0, "needs_reconnect": 0}


def test_the_import_recovery_task_runs():
    from contacts.tasks import recover_imports

    assert recover_imports() == 0


def test_the_webhook_delivery_task_runs():
    from linkedin_crm.tasks import deliver_webhooks

    assert deliver_webhooks() == {"delivered": 0, "failed": 0, "gave_up": 0}
