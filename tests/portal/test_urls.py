"""Both admins sit behind allauth's sign-in; no sign-in path of their own."""

import pytest

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
