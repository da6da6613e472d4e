"""allauth's pages are built from NHS.UK components (portal/templates/allauth/elements/).

The HTML is parsed, not just searched, so that "every input has a label" and "the error summary
links to a real control" are checked as relationships, not as substrings.
"""

import re
from html.parser import HTMLParser

import pytest
from allauth.account.fields import PhoneField
from django import forms
from django.core.cache import cache
from django.template import Context, Template
from django.template.base import Origin

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "test-password-123"


class Page(HTMLParser):
    """The parts of a page these tests care about: elements with their attributes, text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.title = ""
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.elements
            if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def with_class(self, name: str) -> list[tuple[str, dict[str, str]]]:
        return [(t, a) for t, a in self.elements if name in a.get("class", "").split()]

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.elements if "id" in a}

    def controls(self) -> list[dict[str, str]]:
        """Every control a person fills in (not hidden inputs, not buttons)."""
        return [
            a
            for t, a in self.elements
            if (t == "input" and a.get("type") not in {"hidden", "submit"})
            or t in {"textarea", "select"}
        ]


def assert_nhs_form_page(html: str) -> Page:
    """The NHS shell, NHS.UK form components and a label tied to every control."""
    page = Page(html)
    assert 'class="nhsuk-header' in html
    assert page.find("main", id="maincontent")
    assert page.with_class("nhsuk-heading-l"), "the h1 is an NHS.UK heading"
    forms = page.find("form")
    # allauth writes two button-only forms by hand (resend a code, cancel); all others are ours.
    hand_written = {"resend", "logout-from-stage"}
    assert forms and all("novalidate" in f or f.get("id") in hand_written for f in forms)
    assert page.with_class("nhsuk-button")
    controls = page.controls()
    assert controls, "the page has a form to fill in"
    labels = {a["for"] for a in page.find("label") if a.get("for")}
    for control in controls:
        assert control.get("id") in labels, f"no label for {control}"
        if control.get("id") == "search-field":
            continue  # the NHS.UK header's site search: labelled, with the component's hint
        assert "placeholder" not in control, f"placeholder used on {control}"
        kind = control.get("type", "")
        if kind in {"checkbox", "radio"}:
            assert (
                f"nhsuk-{'checkboxes' if kind == 'checkbox' else 'radios'}__input"
                in (control["class"])
            )
        else:
            assert {"nhsuk-input", "nhsuk-textarea", "nhsuk-select"} & set(
                control["class"].split()
            )
    for _, group in page.with_class("nhsuk-form-group"):
        assert group  # present at all is what matters; contents checked above
    assert page.with_class("nhsuk-form-group")
    assert_no_inline_code(html)
    return page


def assert_no_inline_code(html: str) -> None:
    """A nonce-based Content-Security-Policy is coming: no inline script, style or handler."""
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not inline_scripts, inline_scripts
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"<[^>]+\son[a-z]+=", html)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # allauth counts failed sign-ins per IP in the cache; each test starts from none.
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    ("path", "heading"),
    [("/accounts/login/", "Sign in"), ("/accounts/password/reset/", None)],
)
def test_sign_in_pages_are_nhs_forms(client, path, heading):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    page = assert_nhs_form_page(html)
    if heading:
        assert f'<h1 class="nhsuk-heading-l">{heading}</h1>' in html
        assert page.title.strip().startswith(heading)


def test_sign_in_asks_for_email_and_password_with_autocomplete_tokens(client):
    page = Page(client.get("/accounts/login/").content.decode())
    assert page.find("input", id="id_login", type="email", autocomplete="email")
    assert page.find("input", id="id_password", type="password", autocomplete="current-password")
    # The "forgotten your password?" hint is tied to the password box.
    assert page.find("input", id="id_password")[0]["aria-describedby"] == "id_password-hint"
    assert page.find("div", id="id_password-hint", class_="nhsuk-hint")


def test_sign_in_does_not_invite_people_to_sign_up(client):
    html = client.get("/accounts/login/").content.decode()
    assert "/accounts/signup/" not in html
    assert "sign up" not in html.lower()


def test_login_by_code_page_is_an_nhs_form(client):
    login_page = Page(client.get("/accounts/login/").content.decode())
    assert login_page.find("a", href="/accounts/login/code/")  # offered from sign-in

    response = client.get("/accounts/login/code/")
    assert response.status_code == 200
    page = assert_nhs_form_page(response.content.decode())
    assert page.find("input", id="id_phone", type="tel", autocomplete="tel")


def test_empty_sign_in_shows_the_error_summary_and_field_errors(client):
    response = client.post("/accounts/login/", {"login": "", "password": ""})
    assert response.status_code == 200
    html = response.content.decode()
    page = Page(html)

    assert page.title.startswith("Error: ")
    (summary,) = [a for _, a in page.with_class("nhsuk-error-summary")]
    assert summary["role"] == "alert"
    assert summary["tabindex"] == "-1"
    assert "There is a problem" in html
    summary_html = html[html.index("nhsuk-error-summary") : html.index("</ul>")]
    assert '<a href="#id_login">Enter your email address</a>' in summary_html
    assert '<a href="#id_password">Enter your password</a>' in summary_html
    assert {"id_login", "id_password"} <= page.ids()

    assert page.find("span", id="id_login-error", class_="nhsuk-error-message")
    assert '<span class="nhsuk-u-visually-hidden">Error:</span> Enter your email address' in (html)
    login_input = page.find("input", id="id_login")[0]
    assert "nhsuk-input--error" in login_input["class"]
    assert login_input["aria-describedby"].split() == ["id_login-error"]
    password_input = page.find("input", id="id_password")[0]
    assert password_input["aria-describedby"].split() == ["id_password-hint", "id_password-error"]
    assert len(page.with_class("nhsuk-form-group--error")) == 2


def test_wrong_password_and_unknown_email_read_the_same(client):
    """The error names no account: the same words whether or not the email is ours."""
    user = UserFactory(email="known@example.org")
    known = client.post("/accounts/login/", {"login": user.email, "password": "wrong-password"})
    unknown = client.post(
        "/accounts/login/", {"login": "nobody@example.org", "password": "wrong-password"}
    )

    def summary(response) -> str:
        html = response.content.decode()
        start = html.index("nhsuk-error-summary__list")
        return html[start : html.index("</ul>", start)]

    assert known.status_code == unknown.status_code == 200
    assert summary(known) == summary(unknown)
    # A problem with no field of its own still links to a control.
    assert 'href="#id_login"' in summary(known)
    # The password is never written back into the page.
    assert "wrong-password" not in known.content.decode()


def test_sign_in_form_signs_in(client):
    user = UserFactory()
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/accounts/2fa/").status_code == 200


@pytest.fixture
def signed_in_client(client):
    user = UserFactory()
    client.force_login(user)
    # allauth asks for the password again before any security change (force_login records no
    # sign-in time), so answer it once, through its own form.
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302
    client.user = user
    return client


def test_confirm_password_page_is_an_nhs_form(client):
    client.force_login(UserFactory())
    response = client.get("/accounts/reauthenticate/")
    assert response.status_code == 200
    page = assert_nhs_form_page(response.content.decode())
    assert page.find("input", id="id_password", autocomplete="current-password")


def test_two_factor_overview_uses_nhs_cards_and_buttons(signed_in_client):
    response = signed_in_client.get("/accounts/2fa/")
    assert response.status_code == 200
    html = response.content.decode()
    page = Page(html)
    assert 'class="nhsuk-header' in html and page.find("main", id="maincontent")
    assert page.with_class("nhsuk-card")
    assert page.find("h2", class_="nhsuk-card__heading nhsuk-heading-m")
    activate = page.find("a", href="/accounts/2fa/totp/activate/")
    assert activate and "nhsuk-button" in activate[0]["class"]
    assert_no_inline_code(html)


def test_authenticator_app_activation_is_an_nhs_form(signed_in_client):
    response = signed_in_client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 200
    html = response.content.decode()
    page = assert_nhs_form_page(html)

    code = page.find("input", id="id_code")[0]
    assert code["autocomplete"] == "one-time-code"
    assert "nhsuk-input--width-10" in code["class"]
    # The secret is shown to copy: read-only (focusable), not disabled, and not submitted.
    secret = page.find("input", id="authenticator_secret")[0]
    assert "readonly" in secret and "disabled" not in secret and "name" not in secret
    assert secret["aria-describedby"] == "authenticator_secret-hint"
    qr = [a for t, a in page.elements if t == "img" and a["src"].startswith("data:image/svg")]
    assert qr and qr[0]["alt"] == secret["value"]


def test_wrong_authenticator_code_is_summarised_and_linked(signed_in_client):
    signed_in_client.get("/accounts/2fa/totp/activate/")
    response = signed_in_client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert response.status_code == 200
    html = response.content.decode()
    page = Page(html)
    assert page.with_class("nhsuk-error-summary")
    summary = html[html.index("nhsuk-error-summary__list") :]
    assert summary.count('href="#id_code"') == 1
    assert page.find("span", id="id_code-error", class_="nhsuk-error-message")
    assert "nhsuk-form-group--error" in html


def test_recovery_codes_are_readable_after_confirming_the_password(signed_in_client):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = signed_in_client.user
    TOTP.activate(user, generate_totp_secret())
    codes = RecoveryCodes.activate(user).get_unused_codes()

    response = signed_in_client.get("/accounts/2fa/recovery-codes/")
    assert response.status_code == 200
    html = response.content.decode()
    page = Page(html)
    textarea = page.find("textarea", id="recovery_codes")[0]
    assert "readonly" in textarea and "nhsuk-textarea" in textarea["class"]
    assert page.find("label", for_="recovery_codes")
    assert all(code in html for code in codes)
    assert_no_inline_code(html.split("</main>")[0])


def test_login_code_confirmation_page_is_an_nhs_form(client):
    UserFactory(email="", mobile="+447700900777")
    response = client.post("/accounts/login/code/", {"phone": "07700 900777"})
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 200
    page = assert_nhs_form_page(response.content.decode())
    code = page.find("input", id="id_code")[0]
    assert code["autocomplete"] == "one-time-code"
    assert code["name"] == "code"


class EveryKindOfField(forms.Form):
    """Controls allauth may hand over once phone sign-in and other settings are on."""

    phone = PhoneField(help_text="We will text a code to this number.")
    new_password = forms.CharField(widget=forms.PasswordInput, label="New password")
    notes = forms.CharField(widget=forms.Textarea, required=False)
    remember = forms.BooleanField(label="Remember me", required=False)
    contact = forms.ChoiceField(
        choices=[("sms", "Text message"), ("email", "Email")], widget=forms.RadioSelect
    )
    service = forms.ChoiceField(choices=[("a", "Service A"), ("b", "Service B")])
    secret = forms.CharField(widget=forms.HiddenInput)


def render_fields(form: forms.Form) -> str:
    template = Template(
        "{% load allauth %}"
        '{% element form form=form method="post" %}{% slot body %}'
        "{% element fields form=form %}{% endelement %}{% endslot %}{% endelement %}",
        # allauth's element tag needs to know which template it is in.
        origin=Origin("tests", template_name="tests/fields.html"),
    )
    return template.render(Context({"form": form}))


def test_fields_render_every_kind_of_control_as_nhs_components():
    form = EveryKindOfField(data={"phone": "", "new_password": "x", "secret": "s"})
    assert not form.is_valid()
    html = render_fields(form)
    page = Page(html)

    phone = page.find("input", id="id_phone")[0]
    assert phone["type"] == "tel" and phone["autocomplete"] == "tel"
    assert page.find("label", for_="id_phone")
    assert phone["aria-describedby"].split() == ["id_phone-hint", "id_phone-error"]
    assert '<a href="#id_phone">Enter your mobile phone number</a>' in html
    password = page.find("input", id="id_new_password")[0]
    assert password["autocomplete"] == "new-password"
    assert "value" not in password  # a typed password is never sent back
    assert page.find("textarea", id="id_notes", class_="nhsuk-textarea")
    assert "Notes (optional)" in html
    assert page.find("input", id="id_remember", class_="nhsuk-checkboxes__input")
    radios = page.find("input", type="radio")
    assert [r["id"] for r in radios] == ["id_contact_0", "id_contact_1"]
    assert page.find("legend", class_="nhsuk-fieldset__legend nhsuk-fieldset__legend--s")
    assert '<a href="#id_contact_0">' in html  # the summary links to the first option
    assert page.find("select", id="id_service")
    assert page.find("input", type="hidden", name="secret", value="s")
    assert "placeholder" not in html.split('id="maincontent"')[-1]
    assert_no_inline_code(html)
