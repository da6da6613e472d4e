"""factory_boy factories. Everything fictional: drama-range numbers, example.org emails."""

import factory

from portal.models import Service, ServiceLocation, User


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Testshire Liaison and Diversion Service {n}")
    slug = factory.Sequence(lambda n: f"testshire-{n}")
    area = "Testshire (fictional)"
    phone = factory.Sequence(lambda n: f"+44113496{n % 1000:04d}")
    hours = "Every day, 8am to 8pm"


class ServiceLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceLocation

    service = factory.SubFactory(ServiceFactory)
    kind = ServiceLocation.Kind.CUSTODY_SUITE
    name = factory.Sequence(lambda n: f"Testtown custody suite {n}")
    town = "Testtown"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user-{n}")
    first_name = "Test"
    email = factory.Sequence(lambda n: f"user{n}@example.org")
    mobile = ""
    password = factory.django.Password("test-password-123")
