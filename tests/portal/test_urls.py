"""Both admins sit behind allauth's sign-in; no sign-in path of their own."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/admin/", "/django-admin/"])
def test_admins_send_anonymous_people_to_the_allauth_sign_in(client, path):
    response = client.get(path, follow=True)
    final_path, status = response.redirect_chain[-1]
    assert status == 302
    assert final_path.startswith("/accounts/login/")
    assert "next=" in final_path
    assert response.status_code == 200
    assert 'class="nhsuk-header' in response.content.decode()


def test_django_admin_login_page_is_not_served(client):
    response = client.get("/django-admin/login/?next=/django-admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/django-admin/"


def test_sign_in_page_uses_the_nhs_shell(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="nhsuk-skip-link"' in html
    assert 'id="maincontent"' in html


def test_nobody_can_sign_themselves_up(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert "Sign Up Closed" in response.content.decode() or "closed" in (
        response.content.decode().lower()
    )


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/admin/login/", "/accounts/login/"),
        ("/admin/password_reset/", "/accounts/password/reset/"),
        ("/django-admin/login/", "/accounts/login/"),
    ],
)
def test_admin_sign_in_and_reset_paths_go_to_allauth(client, path, target):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(target)


def test_a_password_posted_to_the_wagtail_admin_login_does_not_sign_anyone_in(client):
    user = UserFactory(username="boss", is_staff=True, is_superuser=True)
    response = client.post("/admin/login/", {"username": "boss", "password": "test-password-123"})
    assert response.status_code in {302, 405}
    assert "_auth_user_id" not in client.session
    assert user.pk
