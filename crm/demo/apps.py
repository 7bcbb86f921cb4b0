from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "crm.demo"
    label = "demo"
    verbose_name = "Demo data"
