"""Security headers (issue 16 "Headers"): Content-Security-Policy, HSTS, https redirect.

The test settings switch the https redirect off (the test client speaks plain http); the
tests here put the production values back: what settings.py chooses when DEBUG is off is
checked in a fresh process in test_env.py.
"""

import datetime
import re
from html import unescape

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from reports.models import MonthlyReport, ReportStage, ReportStatus

pytestmark = pytest.mark.django_db

YEAR = 365 * 24 * 3600

EXPECTED_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.fixture
def production(settings):
    """The values settings.py takes with DEBUG off, nothing overridden, no proxy."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = YEAR
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_PROXY_SSL_HEADER = None
    return settings


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_anonymous_pages_carry_the_content_security_policy(client, production, path):
    response = client.get(path, secure=True)
    assert response.status_code == 200
    assert policy(response) == EXPECTED_POLICY


@pytest.mark.parametrize("path", ["/tasks/", "/plans/", "/dashboard/", "/reports/"])
def test_staff_pages_carry_the_content_security_policy(client, production, monitor, path):
    client.force_login(monitor)
    response = client.get(path, secure=True)
    assert response.status_code == 200
    assert policy(response) == EXPECTED_POLICY


def test_an_htmx_partial_carries_the_policy_too(client, production, officer):
    client.force_login(officer)
    response = client.get("/tasks/?q=x", secure=True, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert policy(response) == EXPECTED_POLICY


def test_the_policy_allows_no_inline_script_no_eval_and_no_other_site(client, production):
    header = client.get("/accounts/login/", secure=True).headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    assert "*" not in header
    assert "http" not in header


def test_the_base_page_turns_htmx_inline_indicator_styles_off(client, production):
    html = client.get("/accounts/login/", secure=True).content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in html
    assert "<style" not in html
    assert " style=" not in html


def test_https_responses_carry_hsts_for_a_year_with_subdomains(client, production):
    response = client.get("/accounts/login/", secure=True)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == (
        f"max-age={YEAR}; includeSubDomains; preload"
    )


def test_plain_http_is_redirected_to_https_without_hsts(client, production):
    response = client.get("/accounts/login/?next=/tasks/")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://testserver/accounts/login/?next=/tasks/"
    assert "Strict-Transport-Security" not in response.headers


def test_a_forwarded_proto_header_is_ignored_without_the_proxy_switch(client, production):
    # Anyone reaching the server directly could send the header: it must not count.
    response = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 301
    assert response.headers["Location"] == "https://testserver/accounts/login/"


def test_behind_the_tls_proxy_its_forwarded_proto_header_counts(client, production):
    production.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    response = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith(f"max-age={YEAR}")
    # The proxy's plain-http side is still sent to https.
    plain = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "http"})
    assert plain.status_code == 301
    assert plain.headers["Location"] == "https://testserver/accounts/login/"


def test_a_plain_http_deployment_switched_off_serves_http_without_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 0
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
    assert policy(response) == EXPECTED_POLICY


def test_the_api_docs_page_loads_its_start_up_script_and_styles_as_files(client, production):
    response = client.get("/api/docs/", secure=True)
    assert response.status_code == 200
    assert policy(response) == EXPECTED_POLICY
    html = response.content.decode()
    assert "<style" not in html
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    script_url = re.search(r'<script src="(/api/docs/\?[^"]*script[^"]*)"', html).group(1)

    script = client.get(unescape(script_url), secure=True)
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_a_report_pdf_shown_in_the_browser_may_not_be_framed_but_keeps_chromes_viewer(
    client, production, plan, monitor
):
    report = MonthlyReport.objects.create(
        plan=plan,
        period=datetime.date(2022, 6, 1),
        issuer=plan.monitor_agency,
        stage=ReportStage.DRAFT,
        status=ReportStatus.READY,
    )
    report.pdf.name = default_storage.save("reports/t/june.pdf", ContentFile(b"%PDF-1.7 june"))
    report.save()
    client.force_login(monitor)

    response = client.get(f"/reports/{report.pk}/pdf/", secure=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    # Chrome's PDF viewer needs an <embed> and inline styles in the page it builds around
    # the file: only framing by other pages is refused.
    assert policy(response) == {"frame-ancestors": ["'none'"]}
    # The pages around it keep the whole policy.
    assert policy(client.get("/reports/", secure=True)) == EXPECTED_POLICY
