from django.apps import AppConfig


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"

    def ready(self):
        from allauth.socialaccount.signals import social_account_added, social_account_updated

        from messaging.signals import linkedin_account_connected

        social_account_added.connect(linkedin_account_connected, dispatch_uid="li-added")
        social_account_updated.connect(linkedin_account_connected, dispatch_uid="li-updated")
