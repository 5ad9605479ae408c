from django.apps import AppConfig


class ContactsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "contacts"

    def ready(self):
        from django_q.signals import post_spawn

        from contacts.tasks import recover_imports_at_worker_start

        post_spawn.connect(recover_imports_at_worker_start, dispatch_uid="recover-imports")
